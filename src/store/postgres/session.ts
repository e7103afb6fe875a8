/**
 * A long-running server's own connection to PostgreSQL, beside the pool. It does two things
 * that need a session of their own, and reconnects by itself whenever it is lost:
 *
 *  - It LISTENs for change notifications (changes.ts), the verify cache's change feed: when
 *    another process commits a change, `moved()` says so at the cache's next lookup.
 *    Losing the connection, and regaining it, count as a change too: notifications sent
 *    meanwhile are gone. Cached rows are re-read after REVALIDATE_MS in any case, which bounds
 *    how long a lost notification can go unnoticed.
 *  - It holds the store's job lock, a session-level advisory lock: the one process holding it
 *    runs the periodic jobs (expiry mail, sweeps). When the process dies, its session ends and
 *    PostgreSQL releases the lock; another server takes it on its next try (every second).
 *    Leadership only saves duplicate work: the jobs stay correct without it (outbox claims).
 */
import type { Client, ClientConfig, Notification } from 'pg';
import type { ChangeFeed } from '../types.js';
import { CHANGES_CHANNEL } from './changes.js';

/** The class of akm's advisory locks (any fixed number; the second half names the schema). */
const JOB_LOCK_CLASS = 0x616b6d4a;
const TICK_MS = 1000;
const RETRY_MIN_MS = 100;
const RETRY_MAX_MS = 2000;

export interface SessionState {
  /** the LISTEN connection is up */
  listening: boolean;
  /** this process holds the job lock */
  leading: boolean;
  /** change notifications received so far */
  notifications: number;
}

export class StoreSession {
  private client: Client | null = null;
  private schema = '';
  private changed = true;
  private retryMs = RETRY_MIN_MS;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;
  readonly state: SessionState = { listening: false, leading: false, notifications: 0 };

  constructor(
    private readonly newClient: (config: ClientConfig) => Client,
    private readonly config: ClientConfig,
    /** how long a cached row may be used without asking the store again, notifications or not */
    private readonly revalidateMs: number,
  ) {}

  /** Resolves once the first connection attempt has ended, well or not (later ones run by themselves). */
  start(): Promise<void> {
    return this.connect();
  }

  /** The verify cache's feed: a notification, or a lost or regained connection, since the last call. */
  feed(): ChangeFeed {
    return {
      maxAgeMs: this.revalidateMs,
      moved: () => {
        if (!this.changed) return false;
        this.changed = false;
        return true;
      },
    };
  }

  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    const client = this.client;
    this.drop();
    // Ending the session releases the job lock.
    await client?.end().catch(() => {});
  }

  private async connect(): Promise<void> {
    const client = this.newClient({ ...this.config, application_name: 'akm-listen', keepAlive: true });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    client.on('notification', (message: Notification) => {
      if (message.channel !== CHANGES_CHANNEL || message.payload !== this.schema) return;
      this.changed = true;
      this.state.notifications += 1;
    });
    this.client = client;
    try {
      await client.connect();
      const { rows } = await client.query<{ schema: string }>('SELECT current_schema() AS schema');
      this.schema = rows[0]!.schema;
      await client.query(`LISTEN ${CHANGES_CHANNEL}`);
      if (this.client !== client) return;
      this.state.listening = true;
      // Whatever was notified while this connection was not listening is lost.
      this.changed = true;
      this.retryMs = RETRY_MIN_MS;
      await this.tick(client);
    } catch {
      this.lost(client);
    }
  }

  /** Try for the job lock while not holding it; otherwise a query that shows the session is alive. */
  private async tick(client: Client): Promise<void> {
    if (this.client !== client || this.closed) return;
    try {
      if (this.state.leading) {
        await client.query('SELECT 1');
      } else {
        const { rows } = await client.query<{ locked: boolean }>(
          'SELECT pg_try_advisory_lock($1, hashtext(current_schema())) AS locked',
          [JOB_LOCK_CLASS],
        );
        if (this.client === client) this.state.leading = rows[0]!.locked;
      }
    } catch {
      this.lost(client);
      return;
    }
    if (this.client === client) this.timer = setTimeout(() => void this.tick(client), TICK_MS).unref();
  }

  private drop(): void {
    this.client = null;
    this.state.listening = false;
    this.state.leading = false;
    this.changed = true;
  }

  private lost(client: Client): void {
    if (this.client !== client) return;
    this.drop();
    clearTimeout(this.timer);
    client.end().catch(() => {});
    if (this.closed) return;
    this.timer = setTimeout(() => void this.connect(), this.retryMs).unref();
    this.retryMs = Math.min(RETRY_MAX_MS, this.retryMs * 2);
  }
}
