/**
 * Refusing a signed request seen before, across restarts and across every server on the store.
 * A signed request is only accepted within the skew window around its x-amz-date, so a replay
 * token needs remembering only until that window has passed for it; after that the clock check
 * refuses the replay anyway.
 *
 * Which requests are remembered (authenticate.ts decides): every mutating request, and every
 * request that carries a signed x-akm-nonce (the akm client sends one on every request, reads
 * included). A plain SigV4 GET without a nonce (curl) is not: reading is idempotent, and it
 * stays usable within the skew window.
 *
 * The token is the signed nonce when the client sent one (two identical rotations in the same
 * second stay distinct), else the signature itself (so a replay from any SigV4 client is
 * refused too). Only its SHA-256 is stored. Only requests with a valid signature get here, so
 * only key holders add rows, and each row lives about six minutes.
 */
import { createHash } from 'node:crypto';
import type { LocalBackend } from '../service/local/backend.js';
import { MAX_SKEW_MS } from './sigv4.js';

/**
 * Kept this much longer than the skew window: servers sharing a store may disagree on the time
 * by up to this much (keep them on NTP), and x-amz-date is rounded to the second.
 */
export const CLOCK_MARGIN_MS = 60_000;

export type ReplayVerdict = 'fresh' | 'replayed';

export class ReplayGuard {
  constructor(
    private readonly backend: Pick<LocalBackend, 'rememberToken'>,
    private readonly windowMs = MAX_SKEW_MS,
  ) {}

  /** Remember the token if new. `signedAt` is the request's x-amz-date. */
  async check(token: string, signedAt: Date, now: Date): Promise<ReplayVerdict> {
    const hash = createHash('sha256').update(token).digest();
    const forgetAt = signedAt.getTime() + this.windowMs + CLOCK_MARGIN_MS;
    return (await this.backend.rememberToken(hash, forgetAt, now.getTime())) ? 'fresh' : 'replayed';
  }
}
