/**
 * Who uses a key, in words: "old secret still used by billing (10.0.0.5), 3 minutes ago".
 * Every field came over the network from someone else's program, so all of it is printed
 * through printable().
 */
import { sourceLabel } from '../../core/source.js';
import type { KeyDetails, SourceUse, UseSource } from '../../service/types.js';
import { relativeTime } from '../io/dates.js';
import { dateCell, printable } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderTable } from '../io/table.js';

/** "billing (10.0.0.5)", "10.0.0.5", or the user agent when that is all there is. */
export function describeSource(source: UseSource): string {
  const label = sourceLabel(source);
  return label === null ? 'unknown' : printable(label, 120);
}

const MAX_NAMED = 3;

/** "billing (10.0.0.5), 3 minutes ago; 10.0.0.7, 1 hour ago and 2 more" — the most recent first. */
export function whoUsed(sources: SourceUse[], now: Date): string {
  const named = sources
    .slice(0, MAX_NAMED)
    .map((s) => `${describeSource(s)}, ${relativeTime(new Date(s.lastSeen), now)}`)
    .join('; ');
  return sources.length > MAX_NAMED ? `${named} and ${sources.length - MAX_NAMED} more` : named;
}

/** The sentence about the previous secret while its grace lasts. */
export function previousSecretSentence(key: KeyDetails, now: Date): string | null {
  const previous = key.secrets.find((s) => s.version === 'previous');
  if (!previous || !key.grace) return null;
  const since = key.grace.rotatedAt;
  const after = previous.sources.filter((s) => s.lastSeen >= since);
  if (after.length === 0) return `old secret not used since the rotation (${relativeTime(new Date(since), now)})`;
  return `old secret still used by ${whoUsed(after, now)}`;
}

export type SourceRow = SourceUse & { what: string };

/** Every source on record for a key: its secrets' uses, refusals during a brownout, canary attempts. */
export function sourceRows(key: KeyDetails): SourceRow[] {
  return [
    ...key.secrets.flatMap((s) => s.sources.map((src) => ({ ...src, what: `${s.version} secret` }))),
    ...key.brownoutAttempts.map((src) => ({ ...src, what: 'refused (brownout)' })),
    ...(key.canaryAlarm?.sources ?? []).map((src) => ({ ...src, what: 'canary attempt' })),
  ];
}

export function sourcesTable(io: Io, rows: SourceRow[], now: Date): string {
  return renderTable(
    io,
    [
      { header: 'USE' },
      { header: 'SOURCE', shrinkTo: 16 },
      { header: 'USER AGENT', shrinkTo: 12, drop: 'early' },
      { header: 'VIA', drop: 'early' },
      { header: 'FIRST SEEN', drop: 'late' },
      { header: 'LAST SEEN' },
      { header: 'COUNT' },
    ],
    rows.map((r) => [
      r.what,
      describeSource({ ...r, userAgent: r.service === null && r.address === null ? r.userAgent : null }),
      r.userAgent === null ? '-' : printable(r.userAgent, 200),
      r.via === null ? '-' : printable(r.via, 64),
      dateCell(io, r.firstSeen, { now }),
      dateCell(io, r.lastSeen, { now }),
      String(r.count),
    ]),
  );
}
