/** The bell: notices written with each key change, and the inbox that reads them. */
import { UsageError } from '../../core/errors.js';
import { BUILTIN_GROUP, PERMISSIONS } from '../../core/permissions.js';
import { bellNotices } from '../../notify/bell.js';
import { countUnread, insertNotification, listInbox, markRead } from '../../store/notifications.js';
import { findUser, groupMemberEmails, type UserRow } from '../../store/people.js';
import type { NotificationList, NotificationQuery } from '../types.js';
import { requirePermission } from './actor.js';
import type { Change } from './changes.js';
import { inTransaction, pageLimit, type LocalContext } from './context.js';
import { mustUser } from './lookups.js';

/** Called by recordChange inside the change's transaction: the notices commit with the change or not at all. */
export function notifyKeyChange(ctx: LocalContext, change: Change, at: string): void {
  if (!change.key) return;
  const notices = bellNotices({
    action: change.action,
    actor: ctx.actor.label,
    key: change.key,
    details: change.details,
    administrators: groupMemberEmails(ctx.db, ctx.tenant.id, BUILTIN_GROUP),
  });
  for (const { recipient, message } of notices) {
    insertNotification(ctx.db, recipient, {
      tenantId: ctx.tenant.id,
      at,
      action: change.action,
      keyId: change.key.id,
      keyName: change.key.name,
      actor: ctx.actor.label,
      message,
    });
  }
}

function inboxOwner(ctx: LocalContext, user: string | undefined): UserRow {
  if (user === undefined) {
    if (ctx.actor.userId === null) {
      throw new UsageError('a tenant-level key has no inbox of its own', {
        hint: 'name one with --user EMAIL',
        code: 'no_inbox',
      });
    }
    const own = findUser(ctx.db, ctx.tenant.id, ctx.actor.label);
    if (own) return own;
  }
  const row = mustUser(ctx, user ?? ctx.actor.label);
  // Reading someone else's inbox is managing users.
  if (row.id !== ctx.actor.userId) requirePermission(ctx.actor, PERMISSIONS.manageUsers);
  return row;
}

export function listNotifications(ctx: LocalContext, query: NotificationQuery = {}): NotificationList {
  const limit = pageLimit(query.limit);
  const read = () => {
    const owner = inboxOwner(ctx, query.user);
    const rows = listInbox(ctx.db, owner.id, { unreadOnly: query.unread === true, limit });
    if (query.markRead)
      markRead(
        ctx.db,
        owner.id,
        rows.map((r) => r.id),
        ctx.now().toISOString(),
      );
    return {
      user: owner.email,
      items: rows.map((r) => ({
        id: r.id,
        at: r.at,
        action: r.action,
        accessKeyId: r.key_id,
        keyName: r.key_name,
        actor: r.actor,
        message: r.message,
        read: r.read_at !== null,
        readAt: r.read_at,
      })),
      unread: countUnread(ctx.db, owner.id),
    };
  };
  // Marking read is a write: read and mark under one lock, so nothing arriving meanwhile is marked unseen.
  return query.markRead ? inTransaction(ctx, read) : read();
}
