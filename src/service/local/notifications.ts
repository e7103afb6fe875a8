/** The bell: notices written with each key change, and the inbox that reads them. */
import { UsageError } from '../../core/errors.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import { bellNotices } from '../../notify/bell.js';
import { countUnread, insertNotification, listInbox, markRead } from '../../store/notifications.js';
import { groupMemberEmails, type UserRow } from '../../store/people.js';
import type { NotificationList, NotificationQuery } from '../types.js';
import { authorize, userFacts } from './authorize.js';
import type { Change } from './changes.js';
import { checking, pageLimit, writing, type CheckedScope, type LocalContext, type Scope } from './context.js';
import { mustUser } from './lookups.js';

/** Called by recordChange inside the change's transaction: the notices commit with the change or not at all. */
export async function notifyKeyChange(s: Scope, change: Change, at: string): Promise<void> {
  if (!change.key) return;
  const notices = bellNotices({
    action: change.action,
    actor: s.actor.label,
    key: change.key,
    details: change.details,
    administrators: await groupMemberEmails(s.q, s.tenant.id, BUILTIN_GROUP),
  });
  for (const { recipient, message } of notices) {
    await insertNotification(s.q, recipient, {
      tenantId: s.tenant.id,
      at,
      action: change.action,
      keyId: change.key.id,
      keyName: change.key.name,
      actor: s.actor.label,
      message,
    });
  }
}

async function inboxOwner(s: CheckedScope, user: string | undefined): Promise<UserRow> {
  if (user === undefined) {
    if (s.actor.userId === null) {
      throw new UsageError('a tenant-level key has no inbox of its own', {
        hint: 'name one with --user EMAIL',
        code: 'no_inbox',
      });
    }
  }
  const row = await mustUser(s, user ?? s.actor.label);
  // Reading someone else's inbox is managing users (and an administrator's, for administrators).
  if (row.id === s.actor.userId) authorize(s, { operation: 'inbox.own' });
  else authorize(s, { operation: 'inbox.other', users: [await userFacts(s, row)] }, row.email);
  return row;
}

export async function listNotifications(ctx: LocalContext, query: NotificationQuery = {}): Promise<NotificationList> {
  const limit = pageLimit(query.limit);
  const read = async (s: CheckedScope) => {
    const owner = await inboxOwner(s, query.user);
    // Notices about canary keys are for administrators acting as such, not for a lesser key of theirs.
    const inbox = { userId: owner.id, tenantId: s.tenant.id, withoutCanaries: !s.actor.admin };
    const rows = await listInbox(s.q, inbox, { unreadOnly: query.unread === true, limit });
    if (query.markRead)
      await markRead(
        s.q,
        owner.id,
        rows.map((r) => r.id),
        s.now().toISOString(),
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
      unread: await countUnread(s.q, inbox),
    };
  };
  // Marking read is a write: read and mark under one lock, so nothing arriving meanwhile is marked unseen.
  return query.markRead ? writing(ctx, read) : checking(ctx, read);
}
