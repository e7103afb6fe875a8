/** Each tenant's lifetime policy: one row, replaced by each `policy set` (a new version). */
import type { Queryable } from './types.js';

export interface PolicyRow {
  tenant_id: string;
  version: number;
  max_lifetime_days: number | null;
  never_expires: 'admins' | 'nobody';
  rotate_every_days: number | null;
  enforce_on: string;
  set_at: string;
  set_by: string;
  /** the reminders before enforcement already settled, in days before it, as a JSON list */
  reminded: string;
}

export function getPolicy(q: Queryable, tenantId: string): Promise<PolicyRow | undefined> {
  return q.get<PolicyRow>('SELECT * FROM policies WHERE tenant_id = @tenantId', { tenantId });
}

/** A new version of the policy: its reminders start again. Returns the version. */
export async function putPolicy(q: Queryable, row: Omit<PolicyRow, 'version' | 'reminded'>): Promise<number> {
  const saved = await q.get<{ version: number }>(
    `INSERT INTO policies (tenant_id, version, max_lifetime_days, never_expires, rotate_every_days, enforce_on,
                           set_at, set_by, reminded)
     VALUES (@tenant_id, 1, @max_lifetime_days, @never_expires, @rotate_every_days, @enforce_on, @set_at, @set_by, '[]')
     ON CONFLICT (tenant_id) DO UPDATE SET
       version = policies.version + 1, max_lifetime_days = excluded.max_lifetime_days,
       never_expires = excluded.never_expires, rotate_every_days = excluded.rotate_every_days,
       enforce_on = excluded.enforce_on, set_at = excluded.set_at, set_by = excluded.set_by, reminded = '[]'
     RETURNING version`,
    { ...row },
  );
  return saved!.version;
}

/** Settles reminders of this version only: a policy set again meanwhile has its own. */
export async function markReminded(q: Queryable, tenantId: string, version: number, days: number[]): Promise<void> {
  await q.run('UPDATE policies SET reminded = @reminded WHERE tenant_id = @tenantId AND version = @version', {
    tenantId,
    version,
    reminded: JSON.stringify(days),
  });
}
