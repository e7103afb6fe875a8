/** How the lifetime policy and the keys that break it look to people. */
import type { LifetimePolicy, PolicyPreview } from '../../service/types.js';
import { expiryCell, printable, when } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderFields, renderTable } from '../io/table.js';

const REASONS: Record<string, string> = {
  lifetime_exceeded: 'valid longer than the maximum lifetime',
  never_expires: 'never expires',
  secret_too_old: 'secret older than the rotation period',
};

export function policyFields(io: Io, policy: LifetimePolicy, now: Date): string {
  const days = (n: number | null, none: string) => (n === null ? io.style.dim(none) : `${n} days`);
  const staged = policy.enforceOn !== null && Date.parse(policy.enforceOn) > now.getTime();
  const enforced =
    policy.enforceOn === null
      ? io.style.dim('no policy set')
      : when(io, policy.enforceOn, { now, relative: 'always' }) +
        (staged ? io.style.yellow(' (until then: warnings only)') : '');
  return renderFields(io, [
    ['max lifetime', days(policy.maxLifetimeDays, 'no limit')],
    ['never expires', policy.neverExpires === 'admins' ? 'administrators may set it' : 'nobody may set it'],
    ['rotate every', days(policy.rotateEveryDays, 'no rotation period')],
    ['enforced from', enforced],
  ]);
}

export function violationsTable(io: Io, preview: PolicyPreview, now: Date): string {
  return renderTable(
    io,
    [
      { header: 'ACCESS KEY ID' },
      { header: 'NAME', shrinkTo: 12 },
      { header: 'OWNER', shrinkTo: 12, drop: 'late' },
      { header: 'EXPIRES' },
      { header: 'REASON', shrinkTo: 12 },
    ],
    preview.violations.map((v) => [
      v.accessKeyId,
      printable(v.name),
      v.owner === null ? io.style.dim('(tenant)') : printable(v.owner),
      expiryCell(io, v.expiresAt, now),
      REASONS[v.reason] ?? v.reason,
    ]),
  );
}
