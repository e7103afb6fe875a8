/** The bell inbox: one row per recipient and change, written in the change's own transaction. */
import type { Db } from './open.js';
import { sql } from './statements.js';

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
export function insertNotification(db: Db, email: string, n: NewNotification): boolean {
  return (
    sql(
      db,
      `INSERT INTO notifications (tenant_id, user_id, at, action, key_id, key_name, actor, message)
       SELECT @tenantId, u.id, @at, @action, @keyId, @keyName, @actor, @message FROM users u
        WHERE u.tenant_id = @tenantId AND u.email = @email`,
    ).run({ ...n, email }).changes > 0
  );
}

/** Newest first. */
export function listInbox(db: Db, userId: number, q: { unreadOnly: boolean; limit: number }): NotificationRow[] {
  const text = `SELECT id, at, action, key_id, key_name, actor, message, read_at FROM notifications
     WHERE user_id = ? ${q.unreadOnly ? 'AND read_at IS NULL' : ''} ORDER BY id DESC LIMIT ?`;
  return sql(db, text).all(userId, q.limit) as NotificationRow[];
}

export function markRead(db: Db, userId: number, ids: number[], at: string): void {
  const statement = sql(db, 'UPDATE notifications SET read_at = ? WHERE id = ? AND user_id = ? AND read_at IS NULL');
  for (const id of ids) statement.run(at, id, userId);
}

export function countUnread(db: Db, userId: number): number {
  return (
    sql(db, 'SELECT count(*) AS n FROM notifications WHERE user_id = ? AND read_at IS NULL').get(userId) as {
      n: number;
    }
  ).n;
}
