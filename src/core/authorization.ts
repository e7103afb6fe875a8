/**
 * The authorization rule, pure: may this actor do this operation to these targets? The local
 * service gathers the facts from the store and asks here for every key, user, group and role
 * operation, so the CLI and `akm serve` get the same answers. docs/authorization.md explains it.
 *
 * Checks run in a fixed order, and the first that fails names the denial:
 *   administrators pass → the operation's permission → operations reserved to administrators →
 *   the target key (administrator key, owner, more powerful) → protected users and the
 *   Administrators group → keys reached through a group or role → grants → `never`, re-activation.
 */
import type { ErrorCode } from './errors.js';
import { allows, BUILTIN_GROUP, PERMISSIONS } from './permissions.js';

export type Operation =
  | 'key.create'
  | 'key.list'
  | 'key.report'
  | 'key.show'
  | 'key.permissions'
  | 'key.copy'
  | 'key.extend'
  | 'key.edit'
  | 'key.assign'
  | 'key.rotate'
  | 'key.finish-grace'
  | 'key.activate'
  | 'key.deactivate'
  | 'key.delete'
  | 'user.add'
  | 'user.list'
  | 'user.remove'
  | 'group.create'
  | 'group.list'
  | 'group.delete'
  | 'group.add-member'
  | 'group.remove-member'
  | 'group.add-role'
  | 'group.remove-role'
  | 'role.create'
  | 'role.list'
  | 'role.delete'
  | 'inbox.own'
  | 'inbox.other'
  | 'expiry.notify'
  | 'audit.list'
  | 'audit.verify'
  | 'webhook.add'
  | 'webhook.list'
  | 'webhook.remove'
  | 'webhook.test'
  | 'outbox.deliver'
  | 'policy.show'
  | 'policy.set'
  | 'policy.apply'
  | 'master-key.export'
  | 'master-key.rotate';

const WEBHOOKS_ONLY = 'only tenant administrators manage webhooks: they receive events about every key of the tenant';

/**
 * What an operation needs: one of these permissions (none listed: nothing), or an administrator,
 * for the reason given (each such operation covers far more than one key).
 */
const NEEDS: Record<Operation, readonly string[] | { administrator: string }> = {
  'key.create': [PERMISSIONS.write],
  'key.list': [PERMISSIONS.read],
  'key.report': [PERMISSIONS.read],
  'key.show': [PERMISSIONS.read],
  'key.permissions': [PERMISSIONS.read],
  'key.copy': [PERMISSIONS.read],
  'key.extend': [PERMISSIONS.write],
  'key.edit': [PERMISSIONS.write],
  'key.assign': [PERMISSIONS.write],
  'key.rotate': [PERMISSIONS.rotate],
  'key.finish-grace': [PERMISSIONS.rotate],
  'key.activate': [PERMISSIONS.write],
  'key.deactivate': [PERMISSIONS.write],
  'key.delete': [PERMISSIONS.delete],
  'user.add': [PERMISSIONS.manageUsers],
  'user.list': [PERMISSIONS.read, PERMISSIONS.manageUsers],
  'user.remove': [PERMISSIONS.manageUsers],
  'group.create': [PERMISSIONS.manageUsers],
  'group.list': [PERMISSIONS.read, PERMISSIONS.manageUsers],
  'group.delete': [PERMISSIONS.manageUsers],
  'group.add-member': [PERMISSIONS.manageUsers],
  'group.remove-member': [PERMISSIONS.manageUsers],
  'group.add-role': [PERMISSIONS.manageUsers],
  'group.remove-role': [PERMISSIONS.manageUsers],
  'role.create': [PERMISSIONS.manageUsers],
  'role.list': [PERMISSIONS.read, PERMISSIONS.manageUsers],
  'role.delete': [PERMISSIONS.manageUsers],
  'inbox.own': [],
  'inbox.other': [PERMISSIONS.manageUsers],
  'expiry.notify': {
    administrator: 'only tenant administrators run the expiry mail: it covers every key of the tenant',
  },
  'audit.list': [PERMISSIONS.readAudit],
  'audit.verify': {
    administrator:
      'only tenant administrators verify the audit chain: it holds records about canary keys, ' +
      'which nobody else may know of',
  },
  'webhook.add': { administrator: WEBHOOKS_ONLY },
  'webhook.list': { administrator: WEBHOOKS_ONLY },
  'webhook.remove': { administrator: WEBHOOKS_ONLY },
  'webhook.test': { administrator: WEBHOOKS_ONLY },
  'outbox.deliver': {
    administrator: 'only tenant administrators deliver the queued mail and webhooks: they concern every key',
  },
  'policy.show': [PERMISSIONS.read],
  'policy.set': { administrator: "only tenant administrators set the tenant's lifetime policy" },
  'policy.apply': {
    administrator: 'only tenant administrators apply the lifetime policy: it changes keys of every owner',
  },
  'master-key.export': {
    administrator: 'only tenant administrators export the master key: it opens every secret in the store',
  },
  'master-key.rotate': {
    administrator: 'only tenant administrators rotate the master key: it re-keys everything in the store',
  },
};

export interface ActorFacts {
  /** the acting key's effective permissions (the local operator: `*`) */
  permissions: readonly string[];
  /** the user who owns the acting key; null for a tenant-level key */
  userId: number | null;
  /** the roles the acting key holds, directly or through its groups, and its groups */
  roles: readonly string[];
  groups: readonly string[];
}

export interface KeyFacts {
  id: string;
  ownerId: number | null;
  /** effective permissions */
  permissions: readonly string[];
  /** inactive now (a brownout that has ended is not) because an administrator deactivated it */
  deactivatedByAdmin: boolean;
  /** a canary key: only administrators know it is there */
  canary?: boolean;
}

export interface UserFacts {
  email: string;
  /** a member of the Administrators group */
  administrator: boolean;
}

export interface Request {
  operation: Operation;
  /** the key acted on */
  key?: KeyFacts;
  /** key.create: the user the new key will belong to; null for a tenant-level key */
  owner?: number | null;
  /** the users whose membership or inbox the operation touches */
  users?: readonly UserFacts[];
  /** the group changed, deleted or whose members change */
  group?: string;
  /** the role deleted */
  role?: string;
  /** keys whose permissions a change to a group or role would change; read only when needed */
  reaches?: Iterable<KeyFacts>;
  /** roles and groups handed out: to a key (create, assign) or to a group (add-role) */
  grants?: { roles: readonly string[]; groups: readonly string[] };
  /** the permissions of a role being created */
  rolePermissions?: readonly string[];
  neverExpires?: boolean;
  /** key.create: the new key is a canary */
  canary?: boolean;
}

export type Decision = { allowed: true } | { allowed: false; code: ErrorCode; message: string; hint?: string };

const ALLOWED: Decision = { allowed: true };

function deny(code: ErrorCode, message: string, hint?: string): Decision {
  return { allowed: false, code, message: `permission denied: ${message}`, ...(hint ? { hint } : {}) };
}

export function isAdministrator(permissions: readonly string[]): boolean {
  return permissions.includes('*');
}

/** Every permission of `target` is granted by `held` (so `keys:*` covers `keys:read`, not the reverse). */
function covers(held: readonly string[], target: readonly string[]): boolean {
  return target.every((p) => allows(held, p));
}

/**
 * May a non-administrator act on this key at all, whatever the operation? Not on an
 * administrator's key, not (as a user's key) on a key of anyone else, not on a key more powerful
 * than itself. The one definition of the keys a non-administrator sees, finds by name and lists.
 */
export function keyInReach(actor: ActorFacts, key: KeyFacts): Decision {
  if (isAdministrator(actor.permissions)) return ALLOWED;
  // A canary is never in reach: the service answers "no such key" for it (lookups.ts) and leaves
  // it out of what a change to a group or role reaches (reachedKeys), so this refusal is never
  // seen; it keeps listings and name lookups from ever holding one.
  if (key.canary || isAdministrator(key.permissions))
    return deny(
      'admin_key_protected',
      `${key.id} is an administrator's key; only administrators act on it`,
      'ask a tenant administrator',
    );
  if (actor.userId !== null && key.ownerId !== actor.userId)
    return deny('not_your_key', `${key.id} is not your key`, "a user's key acts only on that user's keys");
  if (!covers(actor.permissions, key.permissions))
    return deny(
      'key_more_powerful',
      `${key.id} has permissions you do not have; nobody manages a key more powerful than itself`,
      'ask a tenant administrator',
    );
  return ALLOWED;
}

function permissionCheck(actor: ActorFacts, operation: Operation): Decision {
  const needs = NEEDS[operation];
  if ('administrator' in needs) return deny('admin_required', needs.administrator, 'ask a tenant administrator');
  if (needs.length === 0 || needs.some((p) => allows(actor.permissions, p))) return ALLOWED;
  return deny(
    'permission_denied',
    `${needs.join(' or ')} is required`,
    'ask a tenant administrator to assign a role that grants it',
  );
}

/** Only administrators make tenant-level keys and canaries; anyone else makes keys only for their own user. */
function creationOwner(actor: ActorFacts, owner: number | null, canary: boolean): Decision {
  if (canary) return deny('admin_required', 'only tenant administrators create canary keys');
  if (owner === null)
    return deny('admin_required', 'only tenant administrators may create tenant-level keys', 'pass your own --owner');
  if (owner !== actor.userId)
    return deny('not_your_key', 'you may create keys only for yourself', 'ask a tenant administrator');
  return ALLOWED;
}

function protectedPeople(request: Request): Decision {
  if (request.group !== undefined && request.group.toLowerCase() === BUILTIN_GROUP.toLowerCase())
    return deny('admin_group_protected', `only administrators change the ${BUILTIN_GROUP} group`);
  const administrator = request.users?.find((u) => u.administrator);
  if (administrator)
    return deny('admin_user_protected', `${administrator.email} is an administrator; only administrators manage them`);
  return ALLOWED;
}

/** A change to a group or role is a change to every key it reaches: judged as `assign` on each. */
function reachedKeys(actor: ActorFacts, request: Request): Decision {
  for (const key of request.reaches ?? []) {
    const via = request.group !== undefined ? `group ${request.group}` : `role ${request.role ?? ''}`;
    if (!allows(actor.permissions, PERMISSIONS.write))
      return deny('permission_denied', `${via} is assigned to ${key.id}: changing it needs ${PERMISSIONS.write}`);
    const reach = keyInReach(actor, key);
    if (!reach.allowed) return { ...reach, message: `${reach.message} (${via} is assigned to it)` };
  }
  return ALLOWED;
}

function grantsHeld(actor: ActorFacts, request: Request): Decision {
  const roles = new Set(actor.roles.map((r) => r.toLowerCase()));
  const groups = new Set(actor.groups.map((g) => g.toLowerCase()));
  const role = request.grants?.roles.find((r) => !roles.has(r.toLowerCase()));
  if (role !== undefined) return deny('escalation_denied', `you cannot grant the role ${role}, which you do not have`);
  const group = request.grants?.groups.find((g) => !groups.has(g.toLowerCase()));
  if (group !== undefined)
    return deny('escalation_denied', `you cannot grant the group ${group}, which you are not in`);
  const permission = request.rolePermissions?.find((p) => !allows(actor.permissions, p));
  if (permission !== undefined)
    return deny('escalation_denied', `you cannot make a role with ${permission}, which you do not have`);
  return ALLOWED;
}

function administratorsOnlyChanges(request: Request): Decision {
  if (request.neverExpires)
    return deny('never_expiry_denied', 'only administrators set a key never to expire', 'give a number of days');
  if (request.operation === 'key.activate' && request.key?.deactivatedByAdmin)
    return deny(
      'reactivation_denied',
      `${request.key.id} was deactivated by an administrator; only an administrator re-activates it`,
    );
  return ALLOWED;
}

export function decide(actor: ActorFacts, request: Request): Decision {
  if (isAdministrator(actor.permissions)) return ALLOWED;
  const checks: Array<() => Decision> = [
    () => permissionCheck(actor, request.operation),
    () => (request.owner !== undefined ? creationOwner(actor, request.owner, request.canary === true) : ALLOWED),
    () => (request.key ? keyInReach(actor, request.key) : ALLOWED),
    () => protectedPeople(request),
    () => reachedKeys(actor, request),
    () => grantsHeld(actor, request),
    () => administratorsOnlyChanges(request),
  ];
  for (const check of checks) {
    const decision = check();
    if (!decision.allowed) return decision;
  }
  return ALLOWED;
}
