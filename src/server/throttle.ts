/**
 * Throttling failed sign-ins without locking out the innocent. Failures are counted per client
 * address and per (access key id, client address):
 *  - an address over its limit gets 429 for its unsigned and failing requests only: a request
 *    it signs validly is served, so a flood of bad requests from behind the same NAT or proxy
 *    cannot shut out the administrators who share it;
 *  - a key that keeps failing from one address is refused from that address only (429 even
 *    with a valid signature: that key is the one under attack there), and works from others.
 *
 * Counts are shared through the store, so every server on it adds up to one limit, but not one
 * write per failure: each server counts in memory and adds its counts to the store in one
 * write transaction a second (`flush`, from the server's maintenance tick, or early when many
 * new scopes pile up). A flood of unsigned requests thus costs at most one store write per
 * second. The store's sums are read at most once a second per scope; the decision is that sum
 * plus what this server has not written yet.
 */
import type { LocalBackend } from '../service/local/backend.js';
import { clientKey } from './rateLimit.js';

export interface ThrottleLimits {
  /** failures from one address within `addressMinutes` before its unsigned and failing requests get 429 */
  perAddress: number;
  addressMinutes: number;
  /** failures of one access key id from one address within `keyMinutes` before that key is refused there */
  perKeyAndAddress: number;
  keyMinutes: number;
}

export const DEFAULT_LIMITS: ThrottleLimits = {
  perAddress: 20,
  addressMinutes: 2,
  perKeyAndAddress: 10,
  keyMinutes: 15,
};

const MINUTE_MS = 60_000;
/** How long a sum read from the store is used before it is read again. */
const READ_EVERY_MS = 1000;
/** Wait only briefly for the write lock: the counts are kept for the next flush. */
const FLUSH_WAIT_MS = 100;
/** Scopes kept in memory; past this many pending, they are written at once. */
const MAX_SCOPES = 10_000;

interface Known {
  sum: number;
  readAt: number;
}

export class FailureThrottle {
  /** scope → minute → failures not yet written to the store */
  private pending = new Map<string, Map<number, number>>();
  /** the batch a flush is writing: counted until the store's sum holds it (or it is back in pending) */
  private writing: Map<string, Map<number, number>> | undefined;
  private readonly known = new Map<string, Known>();
  private flushing: Promise<void> | undefined;

  constructor(
    private readonly backend: Pick<LocalBackend, 'failuresSince' | 'addFailures'>,
    private readonly onError: (error: unknown) => void,
    readonly limits: ThrottleLimits = DEFAULT_LIMITS,
  ) {}

  /** Seconds to wait when this address is over its limit, else null. */
  async addressBlocked(ip: string, nowMs: number): Promise<number | null> {
    const count = await this.count(addressScope(ip), this.limits.addressMinutes, nowMs);
    return count >= this.limits.perAddress ? retryAfter(nowMs) : null;
  }

  /** Seconds to wait when this key is over its limit from this address, else null. */
  async keyBlocked(accessKeyId: string, ip: string, nowMs: number): Promise<number | null> {
    const count = await this.count(keyScope(accessKeyId, ip), this.limits.keyMinutes, nowMs);
    return count >= this.limits.perKeyAndAddress ? retryAfter(nowMs) : null;
  }

  note(accessKeyId: string | null, ip: string, nowMs: number): void {
    this.add(addressScope(ip), nowMs);
    if (accessKeyId) this.add(keyScope(accessKeyId, ip), nowMs);
    if (this.pending.size > MAX_SCOPES) void this.flush(nowMs);
  }

  /**
   * Write the pending counts in one transaction; drop minutes no limit looks at any more. One
   * flush at a time: a call while one runs waits for it, and writes what piled up meanwhile.
   */
  async flush(nowMs: number): Promise<void> {
    while (this.flushing) await this.flushing;
    if (this.pending.size === 0) return;
    const batch = this.pending;
    this.pending = new Map();
    this.writing = batch;
    const oldest = minuteOf(nowMs) - Math.max(this.limits.addressMinutes, this.limits.keyMinutes);
    this.flushing = (async () => {
      try {
        await this.backend.addFailures(batch, oldest, FLUSH_WAIT_MS);
        // What was just written is in the store's sum now: read it afresh next time.
        for (const scope of batch.keys()) this.known.delete(scope);
      } catch (error) {
        // Kept for the next attempt (the store may be locked by another process for a moment).
        for (const [scope, minutes] of batch) for (const [minute, n] of minutes) this.add(scope, minute * MINUTE_MS, n);
        this.onError(error);
      } finally {
        this.writing = undefined;
        this.flushing = undefined;
      }
    })();
    await this.flushing;
  }

  private add(scope: string, nowMs: number, n = 1): void {
    const minute = minuteOf(nowMs);
    let minutes = this.pending.get(scope);
    if (!minutes) this.pending.set(scope, (minutes = new Map<number, number>()));
    minutes.set(minute, (minutes.get(minute) ?? 0) + n);
  }

  private async count(scope: string, windowMinutes: number, nowMs: number): Promise<number> {
    const from = minuteOf(nowMs) - windowMinutes + 1;
    let known = this.known.get(scope);
    if (!known || nowMs - known.readAt >= READ_EVERY_MS) {
      known = { sum: await this.backend.failuresSince(scope, from), readAt: nowMs };
      // delete + set keeps the map in least-recently-read order, so the oldest goes first.
      this.known.delete(scope);
      this.known.set(scope, known);
      if (this.known.size > MAX_SCOPES) this.known.delete(this.known.keys().next().value!);
    }
    // While a flush writes, its batch is in neither the sum read before nor pending: count it too
    // (a sum read while it commits may hold it already: counted twice, the safe way, until re-read).
    let sum = known.sum;
    for (const counts of [this.pending, this.writing])
      for (const [minute, n] of counts?.get(scope) ?? []) if (minute >= from) sum += n;
    return sum;
  }
}

const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS);
const retryAfter = (nowMs: number) => Math.max(1, Math.ceil((MINUTE_MS - (nowMs % MINUTE_MS)) / 1000));
// IPv6 clients are counted per /64, as one host usually holds a whole /64.
const addressScope = (ip: string) => `address ${clientKey(ip)}`;
const keyScope = (accessKeyId: string, ip: string) => `key ${accessKeyId} ${clientKey(ip)}`;
