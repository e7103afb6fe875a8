/**
 * Listing keys: one page at a time in any order (`akm list`, `akm report`), and the candidates
 * of a lifetime policy. No secret material is read.
 */
import type { KeySort, SortField } from '../core/keyFields.js';
import type { ListedKeyRow } from './keys.js';
import type { Queryable } from './types.js';

export interface ListQuery {
  tenantId: string;
  now: string;
  status?: 'active' | 'inactive' | 'expired';
  type?: 'access' | 'api';
  ownerId?: number;
  expiringBefore?: string;
  /** keys last used (or, never used, created) at or before this instant */
  unusedBefore?: string;
  /** keys without an expiry */
  neverExpires?: boolean;
  /** the order; default: creation, oldest first */
  sort?: KeySort;
  /** keyset cursor: the sort value and id of the last row of the previous page */
  after?: { value: string; id: string };
  limit: number;
  /** add each key's effective permissions (what keyRoleGrants resolves, as one JSON array) */
  withPermissions?: boolean;
  /** add whether each key holds any permission at all */
  withAnyPermission?: boolean;
  /** leave out each key's groups and roles (they come back as empty lists): the report shows neither */
  withoutAssignments?: boolean;
}

/** Every permission a key holds, directly or through a group, as the column `v` ordered: for jsonList. */
const EFFECTIVE_PERMISSIONS = `SELECT v FROM (
          SELECT rp.permission AS v FROM key_roles kr JOIN role_permissions rp ON rp.role_id = kr.role_id
            WHERE kr.key_id = k.id
          UNION
          SELECT rp.permission FROM key_groups kg JOIN group_roles gr ON gr.group_id = kg.group_id
            JOIN role_permissions rp ON rp.role_id = gr.role_id WHERE kg.key_id = k.id) p ORDER BY v`;

/** A key's status at @now: a brownout whose end has passed is active again (core/brownout.ts). */
const STATUS_NOW = `CASE WHEN k.status = 'inactive' AND k.inactive_until IS NOT NULL AND k.inactive_until <= @now
                     THEN 'active' ELSE k.status END`;

/**
 * Each sortable field as SQL text. A key that never expires sorts after every date and a key
 * never used before every date: the stand-ins are text that every collation orders that way.
 */
const SORT_SQL: Record<SortField, string> = {
  accessKeyId: 'k.id',
  name: 'lower(k.name)',
  description: 'lower(k.description)',
  type: 'k.type',
  status: `CASE WHEN k.expires_at IS NOT NULL AND k.expires_at <= @now THEN 'expired' ELSE ${STATUS_NOW} END`,
  tenantId: 'k.tenant_id',
  owner: "coalesce(u.email, '')",
  createdAt: 'k.created_at',
  createdBy: 'k.created_by',
  modifiedAt: 'k.modified_at',
  modifiedBy: 'k.modified_by',
  expiresAt: "coalesce(k.expires_at, '9999-12-31T23:59:59.999Z')",
  lastUsedAt: "coalesce(k.last_used_at, '')",
  secretCreatedAt: 'coalesce(k.secret_created_at, k.created_at)',
  // A brownout's end while it lasts (KeyView.inactiveUntil), else before every date.
  inactiveUntil: `CASE WHEN k.status = 'inactive' AND k.inactive_until > @now THEN k.inactive_until ELSE '' END`,
};

/** A listed row and the value it was sorted by (for the cursor). */
export type SortedKeyRow = ListedKeyRow & { sort_value: string };

/**
 * One page of keys, by default in (created_at, id) order. Keyset paging keeps each page an
 * index range scan, so listing 100,000 keys costs the same per page as listing 100; another
 * order sorts the matching rows for each page.
 */
export function listKeys(q: Queryable, query: ListQuery): Promise<SortedKeyRow[]> {
  const order = SORT_SQL[query.sort?.field ?? 'createdAt'];
  const descending = query.sort?.descending === true;
  const where = ['k.tenant_id = @tenantId'];
  if (query.status === 'expired') where.push('k.expires_at IS NOT NULL AND k.expires_at <= @now');
  else if (query.status) where.push(`${STATUS_NOW} = @status AND (k.expires_at IS NULL OR k.expires_at > @now)`);
  if (query.type) where.push('k.type = @type');
  if (query.ownerId !== undefined) where.push('k.owner_id = @ownerId');
  if (query.expiringBefore)
    where.push('k.expires_at IS NOT NULL AND k.expires_at > @now AND k.expires_at <= @expiringBefore');
  if (query.unusedBefore) where.push('coalesce(k.last_used_at, k.created_at) <= @unusedBefore');
  if (query.neverExpires) where.push('k.expires_at IS NULL');
  // Written so that the first term is a range on the sort index: each page starts where the last ended.
  const [past, pastOrAt] = descending ? ['<', '<='] : ['>', '>='];
  if (query.after)
    where.push(`${order} ${pastOrAt} @afterValue AND (${order} ${past} @afterValue OR k.id ${past} @afterId)`);
  const groups = q.dialect.jsonList(
    'SELECT g.name AS v FROM key_groups kg JOIN groups g ON g.id = kg.group_id WHERE kg.key_id = k.id ORDER BY g.name',
  );
  const roles = q.dialect.jsonList(
    'SELECT r.name AS v FROM key_roles kr JOIN roles r ON r.id = kr.role_id WHERE kr.key_id = k.id ORDER BY r.name',
  );
  const permissions = query.withPermissions ? `${q.dialect.jsonList(EFFECTIVE_PERMISSIONS)} AS permissions,` : '';
  const any = query.withAnyPermission
    ? `CASE WHEN EXISTS (${EFFECTIVE_PERMISSIONS}) THEN 1 ELSE 0 END AS any_permission,`
    : '';
  const assignments = query.withoutAssignments
    ? `'[]' AS groups, '[]' AS roles`
    : `CASE WHEN EXISTS (SELECT 1 FROM key_groups WHERE key_id = k.id) THEN ${groups} ELSE '[]' END AS groups,
       CASE WHEN EXISTS (SELECT 1 FROM key_roles WHERE key_id = k.id) THEN ${roles} ELSE '[]' END AS roles`;
  const direction = descending ? 'DESC' : 'ASC';
  // The page is chosen first, from the ids and the sort values alone; only its rows then get
  // their assignments and permissions (a sorted query would otherwise work them out for every key).
  const text = `SELECT k.id, k.tenant_id, k.name, k.description, k.type, k.status, k.owner_id, u.email AS owner_email,
        k.previous_valid_until, k.expires_at, k.created_at, k.created_by, k.modified_at, k.modified_by, k.last_used_at,
        k.secret_created_at, k.deactivated_by_admin, k.canary, k.inactive_until, k.secret_generation,
        k.rotated_by, k.grace_quiet_ms, k.previous_quiet_until, ${permissions} ${any} page.sort_value,
        ${assignments}
     FROM (SELECT k.id, ${order} AS sort_value
             FROM keys k LEFT JOIN users u ON u.id = k.owner_id
            WHERE ${where.join(' AND ')}
            ORDER BY ${order} ${direction}, k.id ${direction}
            LIMIT @limit) page
     JOIN keys k ON k.id = page.id LEFT JOIN users u ON u.id = k.owner_id
     ORDER BY page.sort_value ${direction}, page.id ${direction}`;
  return q.all<SortedKeyRow>(text, {
    tenantId: query.tenantId,
    now: query.now,
    status: query.status,
    type: query.type,
    ownerId: query.ownerId,
    expiringBefore: query.expiringBefore,
    unusedBefore: query.unusedBefore,
    afterValue: query.after?.value,
    afterId: query.after?.id,
    limit: query.limit,
  });
}

/**
 * The keys that may break a lifetime policy: expiring after `latest`, never expiring (under
 * `nobody`), or with a secret made before `secretBefore` and not yet expired. The caller judges
 * each (core/policy.ts); this only keeps the scan to the candidates. Canary keys are never
 * candidates: they never authenticate, so their lifetime risks nothing, and counting them would
 * tell everyone the policy reaches how many there are.
 */
export function policyCandidates(
  q: Queryable,
  c: { tenantId: string; now: string; latest?: string; neverToo: boolean; secretBefore?: string },
): Promise<ListedKeyRow[]> {
  const reasons = ['1 = 0'];
  if (c.latest) reasons.push('k.expires_at > @latest');
  if (c.neverToo) reasons.push('k.expires_at IS NULL');
  if (c.secretBefore)
    reasons.push(
      `(coalesce(k.secret_created_at, k.created_at) < @secretBefore AND (k.expires_at IS NULL OR k.expires_at > @now))`,
    );
  return q.all<ListedKeyRow>(
    `SELECT k.id, k.tenant_id, k.name, k.description, k.type, k.status, k.owner_id, u.email AS owner_email,
            k.previous_valid_until, k.expires_at, k.created_at, k.created_by, k.modified_at, k.modified_by,
            k.last_used_at, k.secret_created_at, k.deactivated_by_admin, '[]' AS groups, '[]' AS roles
       FROM keys k LEFT JOIN users u ON u.id = k.owner_id
      WHERE k.tenant_id = @tenantId AND k.canary IS NULL AND (${reasons.join(' OR ')})
      ORDER BY k.created_at, k.id`,
    { tenantId: c.tenantId, now: c.now, latest: c.latest, secretBefore: c.secretBefore },
  );
}
