/**
 * Who uses a key, as `akm show` (and the credential report) read it: per secret, the sources
 * on record (store/usage.ts), the attempts a brownout refused, and a canary's alarm.
 */
import { newestTallies, SOURCES_KEPT } from '../../core/usage.js';
import { getCanaryAlarm } from '../../store/canaryAlarms.js';
import type { KeyRow } from '../../store/keys.js';
import { latestSources, sourcesOf, type SourceRow } from '../../store/usage.js';
import type { CanaryView, GraceView, SecretUsage, SourceUse } from '../types.js';
import type { Scope } from './context.js';

function sourceUse(row: SourceRow): SourceUse {
  return { ...row.source, firstSeen: row.first_seen, lastSeen: row.last_seen, count: row.count };
}

/** The most recent first, at most SOURCES_KEPT (rows of several generations may name one source twice). */
function newest(rows: SourceRow[]): SourceUse[] {
  const tallies = rows.map((r) => ({
    source: r.source,
    firstSeen: r.first_seen,
    lastSeen: r.last_seen,
    count: r.count,
  }));
  return newestTallies(tallies, SOURCES_KEPT).map((t) => ({
    ...t.source,
    firstSeen: t.firstSeen,
    lastSeen: t.lastSeen,
    count: t.count,
  }));
}

function secretUsage(version: SecretUsage['version'], rows: SourceRow[]): SecretUsage {
  const sources = rows.map(sourceUse);
  return { version, lastUsedAt: sources[0]?.lastSeen ?? null, sources };
}

export interface UsageDetails {
  secrets: SecretUsage[];
  brownoutAttempts: SourceUse[];
  canaryAlarm: CanaryView | null;
}

/** `grace`: the previous secret's, while it is accepted (then its uses are listed too). */
export async function usageDetails(s: Scope, row: KeyRow, grace: GraceView | null): Promise<UsageDetails> {
  const rows = await sourcesOf(s.q, row.id);
  const of = (kind: SourceRow['kind'], generation?: number) =>
    rows.filter((r) => r.kind === kind && (generation === undefined || r.generation === generation));
  const secrets = [secretUsage('current', of('use', row.secret_generation))];
  if (grace) secrets.push(secretUsage('previous', of('use', row.secret_generation - 1)));
  let canaryAlarm: CanaryView | null = null;
  if (row.canary === 1) {
    const alarm = await getCanaryAlarm(s.q, row.id);
    canaryAlarm = {
      attempts: alarm?.attempts ?? 0,
      lastAttemptAt: alarm?.last_attempt_at ?? null,
      lastAlertAt: alarm?.last_alert_at ?? null,
      sources: newest(of('canary')),
    };
  }
  return { secrets, brownoutAttempts: newest(of('refused')), canaryAlarm };
}

/**
 * For each of these keys that has been used, its most recent use of its current secret and
 * where from: "last used (and from where)" in one query per page of a report.
 */
export function lastUseSources(s: Scope, keyIds: string[]): Promise<Map<string, SourceUse>> {
  return latestSources(s.q, s.tenant.id, keyIds).then(
    (rows) => new Map([...rows].map(([keyId, row]) => [keyId, sourceUse(row)])),
  );
}
