/** The bell inbox: one row per recipient and change, written in the change's own transaction. */
import { canaryIdsSql } from './audit.js';
import type { Queryable } from './types.js';

export interface NotificationRow {
  id: number;
  at: string;
  action: string;
  key_id: string | null;
  key_name: string | null;
  actor: string;
  message: string;
  read_at: string | null;
}

export interface NewNotification {
  tenantId: string;
  at: string;
  action: string;
  keyId: string | null;
  keyName: string | null;
  actor: string;
  message: string;
}

/**
 * One row for the user with this email, if the tenant has one (a label that names nobody, such
 * as a removed user, writes nothing). Returns whether a row was written.
 */
export async function insertNotification(q: Queryable, email: string, n: NewNotification): Promise<boolean> {
  const written = await q.run(
    `INSERT INTO notifications (tenant_id, user_id, at, action, key_id, key_name, actor, message)
     SELECT u.tenant_id, u.id, @at, @action, @keyId, @keyName, @actor, @message FROM users u
      WHERE u.tenant_id = @tenantId AND u.email = @email`,
    { ...n, email },
  );
  return written > 0;
}

/**
 * Whose inbox, and whether its notices about canary keys are left out (read with a key that is
 * not an administrator's, even an administrator's own).
 */
export interface Inbox {
  userId: number;
  tenantId: string;
  withoutCanaries: boolean;
}

function inboxWhere(q: Queryable, inbox: Inbox): string {
  return inbox.withoutCanaries
    ? `user_id = @userId AND (key_id IS NULL OR key_id NOT IN (${canaryIdsSql(q)}))`
    : 'user_id = @userId';
}

/** Newest first. */
export function listInbox(
  q: Queryable,
  inbox: Inbox,
  query: { unreadOnly: boolean; limit: number },
): Promise<NotificationRow[]> {
  const text = `SELECT id, at, action, key_id, key_name, actor, message, read_at FROM notifications
     WHERE ${inboxWhere(q, inbox)} ${query.unreadOnly ? 'AND read_at IS NULL' : ''} ORDER BY id DESC LIMIT @limit`;
  return q.all<NotificationRow>(text, { userId: inbox.userId, tenantId: inbox.tenantId, limit: query.limit });
}

export async function markRead(q: Queryable, userId: number, ids: number[], at: string): Promise<void> {
  for (const id of ids)
    await q.run('UPDATE notifications SET read_at = @at WHERE id = @id AND user_id = @userId AND read_at IS NULL', {
      at,
      id,
      userId,
    });
}

export async function countUnread(q: Queryable, inbox: Inbox): Promise<number> {
  const row = await q.get<{ n: number }>(
    `SELECT count(*) AS n FROM notifications WHERE ${inboxWhere(q, inbox)} AND read_at IS NULL`,
    { userId: inbox.userId, tenantId: inbox.tenantId },
  );
  return row!.n;
}
