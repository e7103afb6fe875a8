/**
 * A reference model of akm's authorization rule, written from the rule as the README and
 * docs/authorization.md state it, and independent of the code that enforces it (nothing here
 * imports src/core/authorization or src/core/permissions). Given a world read from the store, an
 * actor and one call, it predicts the outcome: done, denied (with its code), or refused for
 * another reason (not found, a conflict with its code, bad input).
 */
import type { Call } from './authzCalls.js';
import type { ModelKey, ModelUser, ModelWorld } from './authzWorld.js';

/** Who acts: a key of the world that can sign (active, unexpired), or the operator (local only). */
export interface ModelActor {
  label: string;
  keyId: string | null;
  userId: number | null;
  permissions: string[];
  /** role names held directly or through groups, and the groups of the acting key */
  roles: string[];
  groups: string[];
}

export function actorsOf(world: ModelWorld, withOperator: boolean): ModelActor[] {
  const operator = world.users.find((u) => u.email.toLowerCase() === world.operator.toLowerCase())!;
  const actors: ModelActor[] = withOperator
    ? [{ label: world.operator, keyId: null, userId: operator.id, permissions: ['*'], roles: [], groups: [] }]
    : [];
  for (const key of world.keys) {
    if (!key.active || key.expired || key.canary) continue;
    const owner = world.users.find((u) => u.id === key.ownerId);
    actors.push({
      label: owner?.email ?? `key:${key.id}`,
      keyId: key.id,
      userId: key.ownerId,
      permissions: keyPermissions(world, key),
      roles: heldRoles(world, key),
      groups: world.groups.filter((g) => key.groupIds.includes(g.id)).map((g) => g.name),
    });
  }
  return actors;
}

// ---- the model

export type Expected =
  | { kind: 'done'; keys?: string[] }
  /** `codes`: a bulk call refused for several keys leaves one record each, with these codes in order */
  | { kind: 'denied'; code: string; codes?: string[] }
  | { kind: 'not found' }
  | { kind: 'conflict'; code: string }
  | { kind: 'usage' };

/** "keys:*" grants every keys action and "*" everything; nothing else grants what it does not name. */
function grants(held: string[], wanted: string): boolean {
  return held.includes('*') || held.includes(wanted) || held.includes(`${wanted.split(':')[0]}:*`);
}

function rolesOfKey(world: ModelWorld, key: ModelKey) {
  const viaGroups = world.groups.filter((g) => key.groupIds.includes(g.id)).flatMap((g) => g.roleIds);
  return world.roles.filter((r) => key.roleIds.includes(r.id) || viaGroups.includes(r.id));
}

function keyPermissions(world: ModelWorld, key: ModelKey): string[] {
  return [...new Set(rolesOfKey(world, key).flatMap((r) => r.permissions))];
}

function heldRoles(world: ModelWorld, key: ModelKey): string[] {
  return rolesOfKey(world, key).map((r) => r.name);
}

/** What each call needs before anything else: any one of these permissions; 'admin': an administrator. */
const NEEDS: Record<Call['op'], string[] | 'admin'> = {
  create: ['keys:write'],
  list: ['keys:read'],
  show: ['keys:read'],
  permissions: ['keys:read'],
  copy: ['keys:read'],
  extend: ['keys:write'],
  assign: ['keys:write'],
  rotate: ['keys:rotate'],
  'finish-grace': ['keys:rotate'],
  activate: ['keys:write'],
  deactivate: ['keys:write'],
  brownout: ['keys:write'],
  delete: ['keys:delete'],
  'users.add': ['users:manage'],
  'users.list': ['keys:read', 'users:manage'],
  'users.remove': ['users:manage'],
  'groups.create': ['users:manage'],
  'groups.list': ['keys:read', 'users:manage'],
  'groups.delete': ['users:manage'],
  'groups.add-member': ['users:manage'],
  'groups.remove-member': ['users:manage'],
  'groups.add-role': ['users:manage'],
  'groups.remove-role': ['users:manage'],
  'roles.create': ['users:manage'],
  'roles.list': ['keys:read', 'users:manage'],
  'roles.delete': ['users:manage'],
  notifications: [], // own inbox: nothing; someone else's: see below
  'notify-expiring': 'admin',
  'audit.list': ['audit:read'],
  'audit.verify': 'admin',
  'webhooks.add': 'admin',
  'webhooks.list': 'admin',
  'webhooks.remove': 'admin',
  'webhooks.test': 'admin',
  deliver: 'admin',
  edit: ['keys:write'],
  report: ['keys:read'],
  'policy.show': ['keys:read'],
  'policy.set': 'admin',
  'policy.apply': 'admin',
  bulk: [], // the permission of the action on each key: see below
  'master-key.export': 'admin',
  'master-key.rotate': 'admin',
};

const done: Expected = { kind: 'done' };
const denied = (code: string): Expected => ({ kind: 'denied', code });
const conflict = (code: string): Expected => ({ kind: 'conflict', code });

/**
 * `remote`: the call goes through `akm serve`, which never handles the master key (a usage error,
 * before any request) and offers no `deliver` (the server delivers by itself).
 */
export function judge(whole: ModelWorld, actor: ModelActor, call: Call, remote: boolean): Expected {
  if (remote && (call.op === 'master-key.export' || call.op === 'master-key.rotate' || call.op === 'deliver'))
    return { kind: 'usage' };
  const admin = actor.permissions.includes('*');
  // To anyone but an administrator canary keys do not exist: the answer is the one the world
  // would give without them.
  const world = admin ? whole : { ...whole, keys: whole.keys.filter((k) => !k.canary) };
  const has = (p: string) => grants(actor.permissions, p);
  const holdsRole = (name: string) => actor.roles.some((r) => r.toLowerCase() === name.toLowerCase());
  const holdsGroup = (name: string) => actor.groups.some((g) => g.toLowerCase() === name.toLowerCase());
  const keyOf = (id: string) => world.keys.find((k) => k.id === id);
  const userOf = (email: string) => world.users.find((u) => u.email === email)!;
  const groupOf = (name: string) => world.groups.find((g) => g.name === name)!;
  const roleOf = (name: string) => world.roles.find((r) => r.name === name)!;
  const isAdministrators = (name: string) => groupOf(name).builtin && name === 'Administrators';
  const adminCount = groupOf('Administrators').memberIds.length;

  /** Out of reach: an administrator's key, another owner's key (for a user's key), a more powerful key. */
  const outOfReach = (key: ModelKey): string | null => {
    if (admin) return null;
    const target = keyPermissions(world, key);
    if (target.includes('*')) return 'admin_key_protected';
    if (actor.userId !== null && key.ownerId !== actor.userId) return 'not_your_key';
    if (!target.every((p) => has(p))) return 'key_more_powerful';
    return null;
  };
  /** A change to a group or role is a change to each key it reaches, as an assign would be. */
  const reaching = (keys: ModelKey[]): string | null => {
    if (admin) return null;
    for (const key of keys) {
      if (!has('keys:write')) return 'permission_denied';
      const why = outOfReach(key);
      if (why) return why;
    }
    return null;
  };
  const protectedPeople = (group: string | null, users: ModelUser[]): string | null => {
    if (admin) return null;
    if (group !== null && isAdministrators(group)) return 'admin_group_protected';
    if (users.some((u) => u.admin)) return 'admin_user_protected';
    return null;
  };
  /** One key acted on: out of reach, then what only administrators do. */
  const keyVerdict = (op: string, key: ModelKey, never: boolean): string | null => {
    const reach = outOfReach(key);
    if (reach || admin) return reach;
    if (op === 'extend' && never) return 'never_expiry_denied';
    if (op === 'activate' && key.deactivatedByAdmin) return 'reactivation_denied';
    return null;
  };
  const first = (...reasons: Array<string | null>): Expected => {
    const reason = reasons.find((r) => r !== null);
    return reason ? denied(reason) : done;
  };

  if (call.op === 'deliver' && remote) return { kind: 'usage' };
  // A canary is tenant-level: an owner is bad input, refused before anything is looked up.
  if (call.op === 'create' && call.canary && call.owner !== null) return { kind: 'usage' };
  if (
    call.op === 'assign' &&
    call.addRoles.length + call.addGroups.length + call.removeRoles.length + call.removeGroups.length === 0
  )
    return { kind: 'usage' };
  const needs = call.op === 'bulk' ? NEEDS[call.action] : NEEDS[call.op];
  if (!admin && needs === 'admin') return denied('admin_required');
  if (!admin && needs !== 'admin' && needs.length > 0 && !needs.some(has)) return denied('permission_denied');

  switch (call.op) {
    case 'create': {
      const owner = call.owner === null ? null : userOf(call.owner);
      if (!admin && call.canary) return denied('admin_required');
      if (!admin) {
        if (owner === null) return denied('admin_required');
        if (owner.id !== actor.userId) return denied('not_your_key');
        if (!call.roles.every(holdsRole) || !call.groups.every(holdsGroup)) return denied('escalation_denied');
        if (call.never) return denied('never_expiry_denied');
      }
      if (owner !== null && world.keys.filter((k) => k.ownerId === owner.id).length >= 2) return conflict('key_limit');
      return done;
    }
    case 'list': {
      const owner = call.owner === undefined ? undefined : userOf(call.owner);
      const visible = world.keys.filter((k) => !outOfReach(k) && (owner === undefined || k.ownerId === owner.id));
      return { kind: 'done', keys: visible.map((k) => k.id) };
    }
    case 'report':
      return { kind: 'done', keys: world.keys.filter((k) => !outOfReach(k)).map((k) => k.id) };
    case 'bulk': {
      const keys = call.keys.map(keyOf);
      if (keys.some((k) => k === undefined)) return { kind: 'not found' };
      const unique = [...new Map(keys.map((k) => [k!.id, k!])).values()];
      const codes = unique
        .map((k) => keyVerdict(call.action, k, call.action === 'extend' && call.never))
        .filter((c): c is string => c !== null);
      return codes.length > 0 ? { kind: 'denied', code: codes[0]!, codes } : done;
    }
    case 'policy.show':
    case 'policy.set':
    case 'policy.apply':
    case 'users.add':
    case 'users.list':
    case 'groups.create':
    case 'groups.list':
    case 'roles.list':
    case 'notify-expiring':
    case 'audit.list':
    case 'audit.verify':
    case 'webhooks.add':
    case 'webhooks.list':
    case 'deliver':
    case 'master-key.export':
    case 'master-key.rotate':
      return done;
    case 'webhooks.remove':
    case 'webhooks.test':
      return { kind: 'not found' };
    case 'users.remove': {
      const user = userOf(call.email);
      const verdict = first(protectedPeople(null, [user]));
      if (verdict.kind !== 'done') return verdict;
      if (user.email.toLowerCase() === world.operator.toLowerCase()) return conflict('operator_user');
      if (world.keys.some((k) => k.ownerId === user.id)) return conflict('user_has_keys');
      if (user.admin && adminCount <= 1) return conflict('last_admin');
      return done;
    }
    case 'groups.delete': {
      const group = groupOf(call.group);
      const members = world.users.filter((u) => group.memberIds.includes(u.id));
      const reached = world.keys.filter((k) => k.groupIds.includes(group.id));
      const verdict = first(protectedPeople(group.name, members), reaching(reached));
      if (verdict.kind !== 'done') return verdict;
      if (group.builtin) return conflict('builtin');
      if (reached.length > 0) return conflict('group_in_use');
      return done;
    }
    case 'groups.add-member':
    case 'groups.remove-member': {
      const group = groupOf(call.group);
      const user = userOf(call.email);
      const verdict = first(protectedPeople(group.name, [user]));
      if (verdict.kind !== 'done') return verdict;
      const lastAdmin = isAdministrators(group.name) && group.memberIds.includes(user.id) && adminCount <= 1;
      return call.op === 'groups.remove-member' && lastAdmin ? conflict('last_admin') : done;
    }
    case 'groups.add-role':
    case 'groups.remove-role': {
      const group = groupOf(call.group);
      const reached = world.keys.filter((k) => k.groupIds.includes(group.id));
      const verdict = first(
        protectedPeople(group.name, []),
        reaching(reached),
        call.op === 'groups.add-role' && !admin && !holdsRole(call.role) ? 'escalation_denied' : null,
      );
      if (verdict.kind !== 'done') return verdict;
      const role = roleOf(call.role);
      if (
        call.op === 'groups.remove-role' &&
        isAdministrators(group.name) &&
        role.builtin &&
        role.name === 'Administrator'
      )
        return conflict('builtin');
      return done;
    }
    case 'roles.create':
      return first(!admin && !call.permissions.every(has) ? 'escalation_denied' : null);
    case 'roles.delete': {
      const role = roleOf(call.role);
      const groups = world.groups.filter((g) => g.roleIds.includes(role.id)).map((g) => g.id);
      const reached = world.keys.filter(
        (k) => k.roleIds.includes(role.id) || k.groupIds.some((g) => groups.includes(g)),
      );
      const verdict = first(reaching(reached));
      if (verdict.kind !== 'done') return verdict;
      if (role.builtin) return conflict('builtin');
      if (groups.length > 0 || world.keys.some((k) => k.roleIds.includes(role.id))) return conflict('role_in_use');
      return done;
    }
    case 'notifications': {
      if (call.user === undefined) return actor.userId === null ? { kind: 'usage' } : done;
      const user = userOf(call.user);
      if (user.id === actor.userId || admin) return done;
      if (!has('users:manage')) return denied('permission_denied');
      return first(protectedPeople(null, [user]));
    }
    default: {
      const key = keyOf(call.key);
      if (!key) return { kind: 'not found' };
      const verdict = first(keyVerdict(call.op, key, call.op === 'extend' && call.never));
      if (verdict.kind !== 'done') return verdict;
      if (call.op === 'assign' && !admin && (!call.addRoles.every(holdsRole) || !call.addGroups.every(holdsGroup)))
        return denied('escalation_denied');
      return keyState(call.op, key);
    }
  }
}

/** Once allowed, what the key's own state says: no grace to finish, a deactivation that a brownout cannot shorten. */
function keyState(op: Call['op'], key: ModelKey): Expected {
  if (op === 'finish-grace' && !key.inGrace) return { kind: 'conflict', code: 'no_grace' };
  if (op === 'brownout' && key.inactiveForGood) return { kind: 'conflict', code: 'already_inactive' };
  return { kind: 'done' };
}
