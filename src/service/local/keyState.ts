/** A key row's time-dependent state, from its stored instants (core/grace.ts, core/brownout.ts). */
import { graceEnd, previousAccepted, type GraceState } from '../../core/grace.js';
import type { KeyRow } from '../../store/keys.js';
import type { GraceView } from '../types.js';

type GraceColumns = Pick<KeyRow, 'previous_valid_until' | 'grace_quiet_ms' | 'previous_quiet_until'>;

export function graceOf(row: GraceColumns): GraceState {
  return { validUntil: row.previous_valid_until, quietForMs: row.grace_quiet_ms, quietUntil: row.previous_quiet_until };
}

/** The previous secret's grace while it is accepted; null otherwise. */
export function graceView(
  row: GraceColumns & Pick<KeyRow, 'secret_created_at' | 'modified_at'>,
  now: Date,
): GraceView | null {
  const state = graceOf(row);
  if (!previousAccepted(state, now)) return null;
  return {
    mode: state.quietForMs === null ? 'fixed' : 'auto',
    quietForMs: state.quietForMs,
    // Rotations before this column existed: the last change is the closest known time.
    rotatedAt: row.secret_created_at ?? row.modified_at,
    endsAt: graceEnd(state)!,
    endsBy: state.validUntil!,
  };
}
