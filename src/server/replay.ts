/**
 * Refusing a mutating request seen before. A signed request is only accepted within the skew
 * window around its x-amz-date, so a replay token needs remembering only until that window
 * has passed for it; after that the clock check refuses the replay anyway.
 *
 * The token is the signed nonce when the client sent one (the akm client always does, so two
 * identical rotations in the same second stay distinct), else the signature itself (so a
 * replay from any SigV4 client is refused too).
 *
 * Memory is bounded: when the table is full even after dropping expired tokens, new mutating
 * requests are refused (503) rather than old tokens forgotten, which would reopen replays.
 * Only requests with a valid signature get here, so only key holders can fill it.
 */
import { MAX_SKEW_MS } from './sigv4.js';

export const DEFAULT_MAX_TOKENS = 100_000;

export type ReplayVerdict = 'fresh' | 'replayed' | 'full';

export class ReplayGuard {
  /** token → epoch ms after which it can be forgotten; insertion order ≈ expiry order */
  private readonly seen = new Map<string, number>();

  constructor(
    private readonly maxTokens = DEFAULT_MAX_TOKENS,
    private readonly windowMs = MAX_SKEW_MS,
  ) {}

  get size(): number {
    return this.seen.size;
  }

  /** Remember the token if new. `signedAt` is the request's x-amz-date. */
  check(token: string, signedAt: Date, now: Date): ReplayVerdict {
    const forgetAt = this.seen.get(token);
    if (forgetAt !== undefined && forgetAt > now.getTime()) return 'replayed';
    if (this.seen.size >= this.maxTokens) {
      this.sweep(now);
      if (this.seen.size >= this.maxTokens) return 'full';
    }
    this.seen.delete(token);
    // Valid until signedAt + window; one more second covers clock rounding in x-amz-date.
    this.seen.set(token, signedAt.getTime() + this.windowMs + 1000);
    return 'fresh';
  }

  sweep(now: Date): void {
    const t = now.getTime();
    for (const [token, forgetAt] of this.seen) {
      if (forgetAt <= t) this.seen.delete(token);
    }
  }
}
