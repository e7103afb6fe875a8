/** The bell: notices written with each key change, and the inbox that reads them. */
import { UsageError } from '../../core/errors.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import { bellNotices } from '../../notify/bell.js';
import { countUnread, insertNotification, listInbox, markRead } from '../../store/notifications.js';
import { groupMemberEmails, type UserRow } from '../../store/people.js';
import type { NotificationList, NotificationQuery } from '../types.js';
import { authorize, userFacts } from './authorize.js';
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
  }
  const row = mustUser(ctx, user ?? ctx.actor.label);
  // Reading someone else's inbox is managing users (and an administrator's, for administrators).
  if (row.id === ctx.actor.userId) authorize(ctx, { operation: 'inbox.own' });
  else authorize(ctx, { operation: 'inbox.other', users: [userFacts(ctx, row)] }, row.email);
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
