/**
 * lastUsedAt without a write per request. Successful verifications and authentications only
 * note (key id → latest time) in memory; a timer writes the notes once a second in a single
 * transaction. A busy key costs one row update per second however often it is used, and
 * verification never waits for the write lock.
 *
 * If a flush fails (the store is locked by another process, say), the notes are kept and
 * merged with newer ones for the next attempt; only a crash loses at most one interval.
 */
import { setLastUsed } from '../store/keys.js';
import type { Db } from '../store/open.js';
import { writeTransaction } from '../store/statements.js';

const FLUSH_BUSY_TIMEOUT_MS = 100;

export class LastUsedBatcher {
  private pending = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;

  constructor(
    private readonly db: Db,
    private readonly onError: (error: unknown) => void,
    readonly intervalMs = 1000,
  ) {}

  /** The `recordUse` of the server's LocalContext. ISO strings of one format sort as times. */
  record = (accessKeyId: string, at: string): void => {
    const known = this.pending.get(accessKeyId);
    if (known === undefined || known < at) this.pending.set(accessKeyId, at);
  };

  get pendingCount(): number {
    return this.pending.size;
  }

  start(): void {
    this.timer ??= setInterval(() => this.flush(), this.intervalMs);
    // The timer alone must not keep a stopping server alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.flush();
  }

  /** Write everything noted so far in one transaction; returns how many keys were written. */
  flush(): number {
    if (this.pending.size === 0 || !this.db.open) return 0;
    const batch = this.pending;
    this.pending = new Map();
    // Wait only briefly for the write lock: the event loop stands still while SQLite waits,
    // and a bookkeeping timestamp is not worth stalling verifications for. Next tick retries.
    const usualTimeout = this.db.pragma('busy_timeout', { simple: true }) as number;
    this.db.pragma(`busy_timeout = ${FLUSH_BUSY_TIMEOUT_MS}`);
    try {
      writeTransaction(this.db, () => {
        for (const [id, at] of batch) setLastUsed(this.db, id, at);
      });
      return batch.size;
    } catch (error) {
      for (const [id, at] of batch) this.record(id, at);
      this.onError(error);
      return 0;
    } finally {
      this.db.pragma(`busy_timeout = ${usualTimeout}`);
    }
  }
}
