/**
 * The plain-JSON shapes of the bell inbox, the expiry mail job and the audit trail, as they
 * cross the AkmService boundary (locally and over HTTP). Timestamps are ISO-8601 UTC.
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
  /** the change that caused it: key.assign, key.create, key.rotate, key.extend, key.deactivate, key.activate, key.delete */
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

export type MailReason = 'administrator' | 'creator' | 'modifier';

export interface ExpiryMessage {
  /** the outbox id; null in a dry run for mail that would be queued now */
  id: number | null;
  accessKeyId: string;
  keyName: string;
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

// ---- audit

export interface AuditQuery {
  /** ISO timestamp: records at or after it */
  since?: string;
  /** an access key id or key name: that key's records (a deleted key's too) */
  key?: string;
  /** an email, or "key:AKM…" */
  actor?: string;
  /** newest first, at most this many per page (default 100, at most 1000) */
  limit?: number;
  /** the `next` of the previous page */
  after?: string;
}

export interface AuditRecord {
  seq: number;
  at: string;
  tenantId: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  /** where the change came from: "cli:<os user>@<host>" or "http:<address>" */
  source: string;
}

export interface AuditVerifyOptions {
  /** an anchor printed by an earlier verification ("<seq>:<mac>"): it must still be in the chain */
  expectHead?: string;
}

export type AuditProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'head';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** the record concerned (a deleted range starts here) */
  seq: number;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** records in the store's chain (all tenants share one chain) */
  records: number;
  /** "<seq>:<mac>" of the newest record: keep it elsewhere and pass it as expectHead later to detect a cut-off tail */
  head: string | null;
  problems: AuditProblem[];
}
