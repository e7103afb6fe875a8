/**
 * Failed sign-ins go to the audit trail, within a budget: an attacker who can send requests
 * must not be able to fill the disk through us. Each minute at most `perMinute` failures are
 * recorded one by one; the rest are only counted, and the count is recorded once when the
 * minute ends, so the trail still says how many there were.
 *
 * Records are queued and written by the server's maintenance tick in one transaction, never
 * on the request path. They hold the claimed access key id, the reason and the client
 * address: never a signature, a header value or a secret.
 */
import type { AuditEntry } from '../service/local/backend.js';

export interface AuthFailure {
  tenantId: string;
  /** a well-formed access key id, or null when the request named none */
  accessKeyId: string | null;
  reason: string;
  ip: string;
  method: string;
  path: string;
  at: string;
}

const MINUTE_MS = 60_000;

export class AuthFailureLog {
  private queue: AuditEntry[] = [];
  private windowStart = 0;
  private recordedInWindow = 0;
  /** tenant → failures not recorded one by one in the current window */
  private suppressed = new Map<string, number>();

  constructor(
    private readonly write: (entries: AuditEntry[]) => Promise<void>,
    private readonly onError: (error: unknown) => void,
    private readonly perMinute = 20,
  ) {}

  note(f: AuthFailure, nowMs: number): void {
    this.roll(nowMs);
    if (this.recordedInWindow >= this.perMinute) {
      this.suppressed.set(f.tenantId, (this.suppressed.get(f.tenantId) ?? 0) + 1);
      return;
    }
    this.recordedInWindow += 1;
    this.queue.push({
      tenantId: f.tenantId,
      at: f.at,
      actor: f.accessKeyId ? `key:${f.accessKeyId}` : 'anonymous',
      action: 'auth.failed',
      target: f.accessKeyId,
      details: { reason: f.reason, method: f.method, path: f.path },
      source: `http:${f.ip}`,
    });
  }

  /** Called by the maintenance tick, and with `final` at shutdown. */
  async flush(nowMs: number, final = false): Promise<void> {
    this.roll(nowMs, final);
    if (this.queue.length === 0) return;
    const batch = this.queue;
    this.queue = [];
    try {
      await this.write(batch);
    } catch (error) {
      // Dropped rather than retried without end: the request log on stderr still has them.
      this.onError(error);
    }
  }

  /** At a minute boundary, turn the uncounted failures into one summary record per tenant. */
  private roll(nowMs: number, force = false): void {
    if (!force && nowMs - this.windowStart < MINUTE_MS) return;
    const at = new Date(nowMs).toISOString();
    for (const [tenantId, count] of this.suppressed) {
      this.queue.push({
        tenantId,
        at,
        actor: 'akm-server',
        action: 'auth.failed.summary',
        target: null,
        details: { count, note: 'failed sign-ins beyond the per-minute budget, counted only' },
        source: 'server',
      });
    }
    this.suppressed.clear();
    this.windowStart = nowMs;
    this.recordedInWindow = 0;
  }
}
