/**
 * The server's fast path for POST /v1/verify: what a verification needs to know about a key
 * (its digests, status, expiry, grace period, owner, effective permissions) kept in memory,
 * so a verification costs one HMAC and no store query.
 *
 * Kept fresh through the store's change feed, asked before any lookup that comes 1 ms or more
 * after the previous check (under load, once per millisecond rather than once per request); a
 * move clears the cache. On SQLite the feed is `PRAGMA data_version`, which moves whenever
 * another connection (an `akm` CLI on the same file) commits. On PostgreSQL it is the change
 * notifications the server's LISTEN connection receives from every other process on the
 * database (replicas, CLIs), and an entry is used for at most the feed's `maxAgeMs` (a second)
 * in any case, so a lost notification delays a change by that much at most. An entry in use is
 * read again in the background once it is three quarters that old, so under steady load no verification
 * waits for the store while the bound still holds. The server clears the cache itself after
 * every change it makes. Time-based facts (expiry, the end of a grace
 * period) are evaluated against the clock on each call.
 *
 * Rows are checked against their integrity MAC when they enter the cache (store/integrity.ts);
 * an altered one is cached as "no such key".
 *
 * Unknown ids are cached too (as "no such key"), so after its first lookup an unknown key
 * answers on the same path as a known one: neither the answer nor its timing tells them
 * apart. Bounded: least recently used entries go first.
 *
 * The decision is service/local/verify.ts's checkCredentials(), fed from the cache (a test
 * compares both paths on every kind of input).
 */
import type { ChangeFeed, KeyForVerification, LocalBackend } from '../service/local/backend.js';
import { checkCredentials, type Origin } from '../service/local/verify.js';
import type { VerifyInput, VerifyResult } from '../service/types.js';

const VERSION_CHECK_MS = 1;
/** The share of maxAgeMs after which an entry in use is re-read in the background. */
const REFRESH_AT = 0.75;

interface Entry extends KeyForVerification {
  /** performance.now() when it was read from the store */
  loadedAt: number;
}

export class VerifyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly feed: ChangeFeed;
  private checkedAt = -Infinity;
  /** counts clears: a read that began before one may hold what it cleared */
  private generation = 0;
  /** background re-reads under way, so an entry is refreshed once however many ask meanwhile */
  private readonly refreshing = new Set<string>();
  private clearedAt: number;

  constructor(
    private readonly backend: Pick<LocalBackend, 'loadForVerification' | 'changes'>,
    private readonly maxEntries = 50_000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.feed = backend.changes();
    this.clearedAt = now();
  }

  get size(): number {
    return this.entries.size;
  }

  /** After any change made through this server (the change feed does not report our own). */
  invalidate(): void {
    this.entries.clear();
    this.refreshing.clear();
    this.generation += 1;
    this.clearedAt = this.now();
  }

  /** For /metrics: how many entries, the age of the oldest, and the time since the last clear. */
  stats(): { entries: number; oldestAgeSeconds: number; sinceClearedSeconds: number } {
    const now = this.now();
    let oldest = now;
    for (const entry of this.entries.values()) oldest = Math.min(oldest, entry.loadedAt);
    return {
      entries: this.entries.size,
      oldestAgeSeconds: (now - oldest) / 1000,
      sinceClearedSeconds: (now - this.clearedAt) / 1000,
    };
  }

  /** After this server changed these keys' rows itself (an automatic grace moved on by a use). */
  forget(accessKeyIds: Iterable<string>): void {
    for (const id of accessKeyIds) this.entries.delete(id);
    this.generation += 1;
  }

  /** A cached entry answers without a promise; a miss reads the store. */
  lookup(accessKeyId: string): KeyForVerification | Promise<KeyForVerification> {
    const now = this.now();
    if (now - this.checkedAt >= VERSION_CHECK_MS) {
      this.checkedAt = now;
      if (this.feed.moved()) this.invalidate();
    }
    const cached = this.entries.get(accessKeyId);
    const age = cached ? now - cached.loadedAt : Infinity;
    if (age >= this.feed.maxAgeMs) return this.load(accessKeyId);
    if (age >= this.feed.maxAgeMs * REFRESH_AT) this.refresh(accessKeyId);
    // delete + set keeps the map in least-recently-used order.
    this.entries.delete(accessKeyId);
    this.entries.set(accessKeyId, cached!);
    return cached!;
  }

  /** Re-read an entry before it is too old to use; a failure leaves it to expire as it would. */
  private refresh(accessKeyId: string): void {
    if (this.refreshing.has(accessKeyId)) return;
    this.refreshing.add(accessKeyId);
    void this.load(accessKeyId)
      .catch(() => {})
      .finally(() => this.refreshing.delete(accessKeyId));
  }

  private async load(accessKeyId: string): Promise<KeyForVerification> {
    const generation = this.generation;
    const loadedAt = this.now();
    // A row (or a role or group it has) altered at rest comes back as null: it verifies as nothing.
    const found = await this.backend.loadForVerification(accessKeyId);
    const entry: Entry = { row: found.row ?? null, permissions: found.permissions, loadedAt };
    // A change that cleared the cache while this read was on its way may be missing from it:
    // answer with it, but do not keep it.
    if (this.generation !== generation) return entry;
    this.entries.delete(accessKeyId);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(accessKeyId, entry);
    return entry;
  }
}

/** Same answers as verifyKey() in service/local/verify.ts (one decision function), from the cache. */
export function verifyCached(
  backend: Pick<LocalBackend, 'base'>,
  cache: VerifyCache,
  input: VerifyInput,
  origin: Origin,
): Promise<VerifyResult> {
  return checkCredentials(backend.base, input, (id) => cache.lookup(id), origin);
}
