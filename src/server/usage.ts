/**
 * Uses without a write per request. Verifications and sign-ins only note each use in memory —
 * the key's latest use, and a tally per secret and source (core/usage.ts) — and attempts on
 * canary keys; a timer writes it all once a second in one transaction (the canary attempts in
 * their own). A busy key costs a few row updates per second however often it is used, and no
 * answer waits for the store.
 *
 * If a flush fails (the store is locked by another process, say), the notes are kept and merged
 * with newer ones for the next attempt; only a crash loses at most one interval. Memory stays
 * bounded: at most SOURCES_KEPT sources per secret, MAX_SECRETS secrets and MAX_TRIPS canary
 * attempts per interval (past those, uses still stamp lastUsedAt, but their sources and the
 * extra attempts are only counted in the log).
 */
import { SourceBook, type Slot, type Use } from '../core/usage.js';
import type { CanaryTrip } from '../service/local/context.js';

/** Wait only briefly for the write lock: bookkeeping is not worth stalling for. Next tick retries. */
const FLUSH_WAIT_MS = 100;
const MAX_SECRETS = 10_000;
const MAX_TRIPS = 10_000;

export interface UsageSink {
  /** returns the keys whose automatic grace moved (their cached rows are stale) */
  recordUses(lastUsed: Map<string, string>, slots: Slot[], waitMs: number): Promise<Set<string>>;
  /** returns the tenants that alerted */
  recordCanaryTrips(trips: CanaryTrip[]): Promise<Set<string>>;
}

export interface Written {
  /** keys whose automatic grace moved */
  moved: Set<string>;
  /** tenants whose canary alerted: their mail and webhooks are due now */
  alerted: Set<string>;
}

export class UsageBatcher {
  private lastUsed = new Map<string, string>();
  private readonly book = new SourceBook(MAX_SECRETS);
  private trips: CanaryTrip[] = [];
  private droppedTrips = 0;
  private timer: NodeJS.Timeout | undefined;
  private flushing: Promise<number> | undefined;

  constructor(
    private readonly sink: UsageSink,
    private readonly onError: (error: unknown) => void,
    private readonly onWritten: (written: Written) => void = () => {},
    readonly intervalMs = 1000,
  ) {}

  /** The `recordUse` of the server's LocalContext. ISO strings of one format sort as times. */
  record = (use: Use): void => {
    if (use.kind === 'use') this.stamp(use.accessKeyId, use.at);
    this.book.note(use);
  };

  private stamp(accessKeyId: string, at: string): void {
    const known = this.lastUsed.get(accessKeyId);
    if (known === undefined || known < at) this.lastUsed.set(accessKeyId, at);
  }

  /** The `onCanary` of the server's LocalContext. */
  noteCanary = (trip: CanaryTrip): void => {
    if (this.trips.length < MAX_TRIPS) this.trips.push(trip);
    else this.droppedTrips += 1;
  };

  /** Keys whose latest use is not written yet. */
  get pendingCount(): number {
    return this.lastUsed.size;
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

  /** Write everything noted so far; resolves to how many keys' lastUsedAt were written. */
  flush(): Promise<number> {
    // One flush at a time: a slow store must not pile up transactions.
    this.flushing ??= this.writeBatch().finally(() => (this.flushing = undefined));
    return this.flushing;
  }

  private async writeBatch(): Promise<number> {
    const written: Written = { moved: new Set(), alerted: new Set() };
    const count = await this.writeUses(written);
    await this.writeTrips(written);
    if (written.moved.size > 0 || written.alerted.size > 0) this.onWritten(written);
    return count;
  }

  private async writeUses(written: Written): Promise<number> {
    if (this.lastUsed.size === 0 && this.book.size === 0) return 0;
    const lastUsed = this.lastUsed;
    const slots = this.book.take();
    this.lastUsed = new Map();
    try {
      for (const id of await this.sink.recordUses(lastUsed, slots, FLUSH_WAIT_MS)) written.moved.add(id);
      return lastUsed.size;
    } catch (error) {
      for (const [id, at] of lastUsed) this.stamp(id, at);
      this.book.putBack(slots);
      this.onError(error);
      return 0;
    }
  }

  private async writeTrips(written: Written): Promise<void> {
    if (this.trips.length === 0) return;
    const trips = this.trips;
    this.trips = [];
    if (this.droppedTrips > 0) {
      this.onError(
        new Error(`${this.droppedTrips} canary attempts in one second beyond ${MAX_TRIPS}: counted here only`),
      );
      this.droppedTrips = 0;
    }
    try {
      for (const tenant of await this.sink.recordCanaryTrips(trips)) written.alerted.add(tenant);
    } catch (error) {
      this.trips.push(...trips.slice(0, MAX_TRIPS - this.trips.length));
      this.onError(error);
    }
  }
}
