/**
 * lastUsedAt without a write per request. Successful verifications and authentications only
 * note (key id → latest time) in memory; a timer writes the notes once a second in a single
 * transaction. A busy key costs one row update per second however often it is used, and
 * verification never waits for the write lock.
 *
 * If a flush fails (the store is locked by another process, say), the notes are kept and
 * merged with newer ones for the next attempt; only a crash loses at most one interval.
 */

/** Wait only briefly for the write lock: a bookkeeping timestamp is not worth stalling for. Next tick retries. */
const FLUSH_WAIT_MS = 100;

export class LastUsedBatcher {
  private pending = new Map<string, string>();
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;

  constructor(
    private readonly write: (notes: Map<string, string>, waitMs: number) => Promise<void>,
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
    this.timer ??= setInterval(() => void this.flush(), this.intervalMs);
    // The timer alone must not keep a stopping server alive.
    this.timer.unref();
  }

  /** Stops the timer and writes what is still noted. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.flushing;
    await this.flush();
  }

  /** Write everything noted so far in one transaction; resolves to how many keys were written. */
  flush(): Promise<number> {
    // One flush at a time: a slow store must not pile up transactions.
    this.flushing ??= this.writeBatch().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeBatch(): Promise<number> {
    if (this.pending.size === 0) return 0;
    const batch = this.pending;
    this.pending = new Map();
    try {
      await this.write(batch, FLUSH_WAIT_MS);
      return batch.size;
    } catch (error) {
      for (const [id, at] of batch) this.record(id, at);
      this.onError(error);
      return 0;
    }
  }
}
