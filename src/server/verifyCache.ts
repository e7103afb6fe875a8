/**
 * The server's fast path for POST /v1/verify: what a verification needs to know about a key
 * (its digests, status, expiry, grace period, owner, effective permissions) kept in memory,
 * so a verification costs one HMAC and no SQLite query.
 *
 * Never stale: the cache asks SQLite for `PRAGMA data_version`, which changes whenever
 * another connection (an `akm` CLI on the same file) commits, before any lookup that comes
 * 1 ms or more after the previous check (under load, once per millisecond rather than once
 * per request; a change committed elsewhere is seen by every verification that starts 1 ms
 * later). The server clears the cache itself after every change it makes through its own
 * connection. Time-based facts (expiry, the end of a grace period) are evaluated against the
 * clock on each call.
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
import type { Statement } from 'better-sqlite3';
import { effectivePermissions } from '../core/permissions.js';
import type { LocalContext } from '../service/local/context.js';
import { checkCredentials, unlessTampered } from '../service/local/verify.js';
import type { VerifyInput, VerifyResult } from '../service/types.js';
import { getKeyById, keyRoleGrants, type KeyRow } from '../store/keys.js';
import type { Db } from '../store/open.js';

const VERSION_CHECK_MS = 1;

interface Entry {
  /** null: no key with this id */
  row: KeyRow | null;
  permissions: string[];
}

const NO_KEY: Entry = { row: null, permissions: [] };

export class VerifyCache {
  private readonly entries = new Map<string, Entry>();
  private readonly dataVersion: Statement;
  private seenVersion: number;
  private checkedAt = -Infinity;

  constructor(
    private readonly db: Db,
    private readonly maxEntries = 50_000,
  ) {
    this.dataVersion = db.prepare('PRAGMA data_version').pluck();
    this.seenVersion = this.dataVersion.get() as number;
  }

  get size(): number {
    return this.entries.size;
  }

  /** After any change made through the server's own connection (data_version does not see those). */
  invalidate(): void {
    this.entries.clear();
  }

  lookup(accessKeyId: string): Entry {
    const now = performance.now();
    if (now - this.checkedAt >= VERSION_CHECK_MS) {
      this.checkedAt = now;
      const version = this.dataVersion.get() as number;
      if (version !== this.seenVersion) {
        this.entries.clear();
        this.seenVersion = version;
      }
    }
    const cached = this.entries.get(accessKeyId);
    if (cached) {
      // delete + set keeps the map in least-recently-used order.
      this.entries.delete(accessKeyId);
      this.entries.set(accessKeyId, cached);
      return cached;
    }
    // A row (or a role or group it has) altered at rest is cached as no key at all.
    const entry =
      unlessTampered((): Entry => {
        const row = getKeyById(this.db, accessKeyId);
        return row ? { row, permissions: effectivePermissions(keyRoleGrants(this.db, row.id)) } : NO_KEY;
      }) ?? NO_KEY;
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(accessKeyId, entry);
    return entry;
  }
}

/** Same answers as verifyKey() in service/local/verify.ts (one decision function), from the cache. */
export function verifyCached(ctx: LocalContext, cache: VerifyCache, input: VerifyInput): VerifyResult {
  return checkCredentials(ctx, input, (id) => {
    const entry = cache.lookup(id);
    return { row: entry.row, permissions: () => entry.permissions };
  });
}
