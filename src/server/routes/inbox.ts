/** /v1/notifications… (the bell inbox, the expiry mail job) and /v1/audit… (the trail and its check). */
import { UsageError } from '../../core/errors.js';
import type { AuditQuery, NotificationQuery } from '../../service/types.js';
import { Fields, queryInteger, queryParams } from '../fields.js';
import type { Route } from '../router.js';

function flag(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false')
    throw new UsageError(`query parameter "${name}" must be true or false`, { code: 'invalid_query' });
  return value === 'true';
}

function notificationQuery(q: Record<string, string | undefined>): NotificationQuery {
  const query: NotificationQuery = {};
  if (q.user !== undefined) query.user = q.user;
  const unread = flag(q.unread, 'unread');
  if (unread !== undefined) query.unread = unread;
  const limit = queryInteger(q.limit, 'limit', 1, 1000);
  if (limit !== undefined) query.limit = limit;
  return query;
}

export const inboxRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/v1/notifications',
    handler: async ({ service, query }) =>
      service.listNotifications(notificationQuery(queryParams(query, ['user', 'unread', 'limit']))),
  },
  {
    // Marking read changes state, so it is a POST (and replay-checked like every change).
    method: 'POST',
    pattern: '/v1/notifications/read',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const q = {
        user: f.optionalString('user'),
        unread: f.raw('unread') === undefined ? undefined : String(f.raw('unread')),
        limit: f.raw('limit') === undefined ? undefined : String(f.raw('limit')),
      };
      f.done();
      return service.listNotifications({ ...notificationQuery(q), markRead: true });
    },
  },
  {
    method: 'POST',
    pattern: '/v1/notifications/expiring',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const withinDays = f.integer('withinDays', 1, 3650);
      const dryRun = f.raw('dryRun');
      if (dryRun !== undefined && typeof dryRun !== 'boolean')
        throw new UsageError('"dryRun" must be true or false', { code: 'invalid_body' });
      f.done();
      return service.notifyExpiring({ withinDays, dryRun: dryRun === true });
    },
  },
  {
    method: 'GET',
    pattern: '/v1/audit',
    handler: async ({ service, query }) => {
      const q = queryParams(query, ['since', 'key', 'actor', 'limit', 'after']);
      const audit: AuditQuery = {};
      if (q.since !== undefined) audit.since = q.since;
      if (q.key !== undefined) audit.key = q.key;
      if (q.actor !== undefined) audit.actor = q.actor;
      if (q.after !== undefined) audit.after = q.after;
      const limit = queryInteger(q.limit, 'limit', 1, 1000);
      if (limit !== undefined) audit.limit = limit;
      return service.listAudit(audit);
    },
  },
  {
    method: 'GET',
    pattern: '/v1/audit/verify',
    handler: async ({ service, query }) => {
      const q = queryParams(query, ['expectHead']);
      return service.verifyAudit(q.expectHead !== undefined ? { expectHead: q.expectHead } : {});
    },
  },
  {
    method: 'GET',
    pattern: '/v1/audit/head',
    handler: async ({ service, query }) => {
      queryParams(query, []);
      return service.auditHead();
    },
  },
];
