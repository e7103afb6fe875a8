/**
 * The plain-JSON shapes of the bell inbox and the expiry mail job, as they cross the
 * AkmService boundary (locally and over HTTP). Timestamps are ISO-8601 UTC.
 */

// ---- bell

export interface NotificationQuery {
  /** whose inbox; default: the acting user's own. Another user's needs users:manage. */
  user?: string;
  /** only notifications not yet read */
  unread?: boolean;
  /** mark the returned notifications read (they are returned as they were before) */
  markRead?: boolean;
  /** newest first, at most this many (default 100, at most 1000) */
  limit?: number;
}

export interface Notification {
  id: number;
  at: string;
  /**
   * the change that caused it: key.assign, key.create, key.rotate, key.extend, key.deactivate,
   * key.activate, key.delete
   */
  action: string;
  accessKeyId: string | null;
  keyName: string | null;
  /** who made the change: an email, or "key:AKM…" */
  actor: string;
  message: string;
  read: boolean;
  readAt: string | null;
}

export interface NotificationList {
  user: string;
  items: Notification[];
  /** unread notifications left in the inbox after this call */
  unread: number;
}

// ---- expiry mail

export interface NotifyExpiringOptions {
  /** keys expiring within this many days from now (default 2) */
  withinDays: number;
  /** plan and report, but queue and send nothing */
  dryRun?: boolean;
}

/** Called as messages are settled, for a progress display; the remote implementation may not call it. */
export type ProgressListener = (done: number, total: number) => void;

export type MailReason = 'owner' | 'administrator' | 'creator' | 'modifier';

export interface ExpiryMessage {
  /** the outbox id; null in a dry run for mail that would be queued now */
  id: number | null;
  /** null for a notice about the lifetime policy (its expiresAt is then the enforcement date) */
  accessKeyId: string | null;
  keyName: string | null;
  expiresAt: string;
  recipient: string;
  reasons: MailReason[];
  subject: string;
  /** pending: queued, not sent (always so in a dry run); failed: kept for the next run */
  state: 'pending' | 'sent' | 'failed' | 'cancelled';
  attempts: number;
  /** the last delivery error (never containing the SMTP password) */
  error: string | null;
  sentAt: string | null;
  /** queued by an earlier run (a retry), rather than planned by this one */
  retry: boolean;
}

export interface NotifyExpiringResult {
  dryRun: boolean;
  withinDays: number;
  checkedAt: string;
  /** keys newly planned for mail by this run (that would be, in a dry run) */
  keys: number;
  messages: ExpiryMessage[];
  sent: number;
  failed: number;
  cancelled: number;
}
