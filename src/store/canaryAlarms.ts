/** A canary key's alarm: how often it was tried, and when it last alerted (core/canary.ts decides when). */
import type { Queryable } from './types.js';

export interface CanaryAlarmRow {
  key_id: string;
  attempts: number;
  /** attempts since the last alert, named in the next one */
  unalerted: number;
  last_attempt_at: string | null;
  last_alert_at: string | null;
}

/** `forUpdate`: in a write that goes on to change it (PostgreSQL locks the row; a read-only snapshot may not). */
export function getCanaryAlarm(q: Queryable, keyId: string, forUpdate = false): Promise<CanaryAlarmRow | undefined> {
  return q.get<CanaryAlarmRow>(
    `SELECT key_id, attempts, unalerted, last_attempt_at, last_alert_at FROM canary_alarms
      WHERE key_id = @keyId${forUpdate ? q.dialect.forUpdate : ''}`,
    { keyId },
  );
}

/**
 * Count `attempts` more at `at`. `alerted`: an alert goes out for them now (the count of
 * attempts not yet alerted starts again); otherwise they wait for the next alert.
 */
export async function noteCanaryAttempts(
  q: Queryable,
  row: { keyId: string; tenantId: string; attempts: number; at: string; alerted: boolean },
): Promise<void> {
  // Decided here, not in SQL: a parameter used as two types is refused by PostgreSQL.
  const unalerted = row.alerted ? 0 : row.attempts;
  await q.run(
    `INSERT INTO canary_alarms (key_id, tenant_id, attempts, unalerted, last_attempt_at, last_alert_at)
     VALUES (@keyId, @tenantId, @attempts, @unalerted, @at, @alertAt)
     ON CONFLICT (key_id) DO UPDATE SET
       attempts = canary_alarms.attempts + excluded.attempts,
       unalerted = CASE WHEN excluded.last_alert_at IS NULL
                        THEN canary_alarms.unalerted + excluded.unalerted ELSE 0 END,
       last_attempt_at = excluded.last_attempt_at,
       last_alert_at = coalesce(excluded.last_alert_at, canary_alarms.last_alert_at)`,
    {
      keyId: row.keyId,
      tenantId: row.tenantId,
      attempts: row.attempts,
      unalerted,
      at: row.at,
      alertAt: row.alerted ? row.at : null,
    },
  );
}
