/**
 * A reference model of akm's authorization rule, written from the rule as the README states it
 * and independent of the code that enforces it (nothing here imports src/core/authorization or
 * src/core/permissions). Given a world read from the store, an actor and one call, it predicts
 * the outcome: done, denied (with its code), or refused for another reason (not found, a
 * conflict, bad input). runCase makes the call through any AkmService (the local one, or the
 * remote one through `akm serve`) and checks the outcome and that a refusal changed nothing.
 */
import fc from 'fast-check';
import type { AkmError } from '../../src/core/errors.js';
import type { AkmService } from '../../src/service/types.js';
import type { Db } from '../../src/store/open.js';
import {
  auditLines,
  POOL,
  readWorld,
  tenantDump,
  type ModelKey,
  type ModelUser,
  type ModelWorld,
} from './authzWorld.js';

// ---- the calls

type Index = number;
/** a key of the world, or the id of a key in another tenant */
type KeyPick = Index | 'foreign';

export type OpSpec =
  | { op: 'create'; owner: 'self' | 'tenant' | Index; roles: Index[]; groups: Index[]; never: boolean }
  | { op: 'list'; owner: Index | null; limit: number }
  | { op: 'show' | 'permissions' | 'copy' | 'rotate' | 'activate' | 'deactivate' | 'delete'; key: KeyPick }
  | { op: 'extend'; key: KeyPick; never: boolean }
  | { op: 'assign'; key: KeyPick; addRoles: Index[]; addGroups: Index[]; removeRoles: Index[]; removeGroups: Index[] }
  | { op: 'users.add' | 'users.list' | 'groups.create' | 'groups.list' | 'roles.list' }
  | { op: 'users.remove'; user: Index }
  | { op: 'groups.delete'; group: Index }
  | { op: 'groups.add-member' | 'groups.remove-member'; group: Index; user: Index }
  | { op: 'groups.add-role' | 'groups.remove-role'; group: Index; role: Index }
  | { op: 'roles.create'; permissions: string[] }
  | { op: 'roles.delete'; role: Index }
  | { op: 'notifications'; user: 'self' | Index; markRead: boolean }
  | { op: 'notify-expiring' | 'audit.list' | 'audit.verify' };

export interface CaseSpec {
  actor: Index;
  call: OpSpec;
}

const ix = fc.nat(40);
const ixs = fc.uniqueArray(ix, { maxLength: 2 });
const keyPick: fc.Arbitrary<KeyPick> = fc.oneof(
  { weight: 12, arbitrary: ix },
  { weight: 1, arbitrary: fc.constant('foreign' as const) },
);

export const caseArb: fc.Arbitrary<CaseSpec> = fc.record({
  actor: ix,
  call: fc.oneof(
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('create' as const),
        owner: fc.oneof(fc.constant('self' as const), fc.constant('tenant' as const), ix),
        roles: ixs,
        groups: ixs,
        never: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('list' as const),
        owner: fc.option(ix),
        limit: fc.constantFrom(1, 2, 1000),
      }),
    },
    {
      weight: 12,
      arbitrary: fc.record({
        op: fc.constantFrom<'show' | 'permissions' | 'copy' | 'rotate' | 'activate' | 'deactivate' | 'delete'>(
          'show',
          'permissions',
          'copy',
          'rotate',
          'activate',
          'deactivate',
          'delete',
        ),
        key: keyPick,
      }),
    },
    { weight: 3, arbitrary: fc.record({ op: fc.constant('extend' as const), key: keyPick, never: fc.boolean() }) },
    {
      weight: 4,
      arbitrary: fc.record({
        op: fc.constant('assign' as const),
        key: keyPick,
        addRoles: ixs,
        addGroups: ixs,
        removeRoles: ixs,
        removeGroups: ixs,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constantFrom<'users.add' | 'users.list' | 'groups.create' | 'groups.list' | 'roles.list'>(
          'users.add',
          'users.list',
          'groups.create',
          'groups.list',
          'roles.list',
        ),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('users.remove' as const), user: ix }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('groups.delete' as const), group: ix }) },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constantFrom<'groups.add-member' | 'groups.remove-member'>('groups.add-member', 'groups.remove-member'),
        group: ix,
        user: ix,
      }),
    },
    {
      weight: 3,
      arbitrary: fc.record({
        op: fc.constantFrom<'groups.add-role' | 'groups.remove-role'>('groups.add-role', 'groups.remove-role'),
        group: ix,
        role: ix,
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('roles.create' as const),
        permissions: fc.subarray(POOL, { minLength: 1, maxLength: 3 }),
      }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('roles.delete' as const), role: ix }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('notifications' as const),
        user: fc.oneof(fc.constant('self' as const), ix),
        markRead: fc.boolean(),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constantFrom<'notify-expiring' | 'audit.list' | 'audit.verify'>(
          'notify-expiring',
          'audit.list',
          'audit.verify',
        ),
      }),
    },
  ),
});

/** The call with names and ids in place of indices. */
export type Call =
  | { op: 'create'; name: string; owner: string | null; roles: string[]; groups: string[]; never: boolean }
  | { op: 'list'; owner?: string; limit: number }
  | { op: 'show' | 'permissions' | 'copy' | 'rotate' | 'activate' | 'deactivate' | 'delete'; key: string }
  | { op: 'extend'; key: string; never: boolean }
  | {
      op: 'assign';
      key: string;
      addRoles: string[];
      addGroups: string[];
      removeRoles: string[];
      removeGroups: string[];
    }
  | { op: 'users.add'; email: string }
  | { op: 'users.list' | 'groups.list' | 'roles.list' | 'notify-expiring' | 'audit.list' | 'audit.verify' }
  | { op: 'users.remove'; email: string }
  | { op: 'groups.create'; name: string }
  | { op: 'groups.delete'; group: string }
  | { op: 'groups.add-member' | 'groups.remove-member'; group: string; email: string }
  | { op: 'groups.add-role' | 'groups.remove-role'; group: string; role: string }
  | { op: 'roles.create'; name: string; permissions: string[] }
  | { op: 'roles.delete'; role: string }
  | { op: 'notifications'; user?: string; markRead: boolean };

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

let fresh = 0;
const freshName = () => `new${++fresh}`;

export function actorsOf(world: ModelWorld, withOperator: boolean): ModelActor[] {
  const operator = world.users.find((u) => u.email.toLowerCase() === world.operator.toLowerCase())!;
  const actors: ModelActor[] = withOperator
    ? [{ label: world.operator, keyId: null, userId: operator.id, permissions: ['*'], roles: [], groups: [] }]
    : [];
  for (const key of world.keys) {
    if (!key.active || key.expired) continue;
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

export function concretize(world: ModelWorld, actor: ModelActor, spec: OpSpec, foreignKey: string): Call {
  const pick = <T>(list: T[], i: Index) => list[i % list.length]!;
  const key = (k: KeyPick) => (k === 'foreign' || world.keys.length === 0 ? foreignKey : pick(world.keys, k).id);
  const user = (i: Index) => pick(world.users, i).email;
  const role = (i: Index) => pick(world.roles, i).name;
  const group = (i: Index) => pick(world.groups, i).name;
  const unique = (names: string[]) => [...new Set(names)];
  switch (spec.op) {
    case 'create': {
      const self = world.users.find((u) => u.id === actor.userId)?.email ?? null;
      const owner = spec.owner === 'self' ? self : spec.owner === 'tenant' ? null : user(spec.owner);
      const roles = unique(spec.roles.map(role));
      return {
        op: 'create',
        name: freshName(),
        owner,
        roles,
        groups: unique(spec.groups.map(group)),
        never: spec.never,
      };
    }
    case 'list':
      return { op: 'list', limit: spec.limit, ...(spec.owner === null ? {} : { owner: user(spec.owner) }) };
    case 'extend':
      return { op: 'extend', key: key(spec.key), never: spec.never };
    case 'assign':
      return {
        op: 'assign',
        key: key(spec.key),
        addRoles: unique(spec.addRoles.map(role)),
        addGroups: unique(spec.addGroups.map(group)),
        removeRoles: unique(spec.removeRoles.map(role)),
        removeGroups: unique(spec.removeGroups.map(group)),
      };
    case 'users.add':
      return { op: 'users.add', email: `${freshName()}@${world.tenantId}.test` };
    case 'groups.create':
      return { op: 'groups.create', name: freshName() };
    case 'users.list':
    case 'groups.list':
    case 'roles.list':
    case 'notify-expiring':
    case 'audit.list':
    case 'audit.verify':
      return { op: spec.op };
    case 'users.remove':
      return { op: 'users.remove', email: user(spec.user) };
    case 'groups.delete':
      return { op: 'groups.delete', group: group(spec.group) };
    case 'groups.add-member':
    case 'groups.remove-member':
      return { op: spec.op, group: group(spec.group), email: user(spec.user) };
    case 'groups.add-role':
    case 'groups.remove-role':
      return { op: spec.op, group: group(spec.group), role: role(spec.role) };
    case 'roles.create':
      return { op: 'roles.create', name: freshName(), permissions: spec.permissions };
    case 'roles.delete':
      return { op: 'roles.delete', role: role(spec.role) };
    case 'notifications':
      return {
        op: 'notifications',
        markRead: spec.markRead,
        ...(spec.user === 'self' ? {} : { user: user(spec.user) }),
      };
    default:
      return { op: spec.op, key: key(spec.key) };
  }
}

// ---- the model

export type Expected =
  | { kind: 'done'; keys?: string[] }
  | { kind: 'denied'; code: string }
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
  activate: ['keys:write'],
  deactivate: ['keys:write'],
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
  'audit.verify': ['audit:read'],
};

const done: Expected = { kind: 'done' };
const denied = (code: string): Expected => ({ kind: 'denied', code });
const conflict = (code: string): Expected => ({ kind: 'conflict', code });

export function judge(world: ModelWorld, actor: ModelActor, call: Call): Expected {
  const admin = actor.permissions.includes('*');
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
  const first = (...reasons: Array<string | null>): Expected => {
    const reason = reasons.find((r) => r !== null);
    return reason ? denied(reason) : done;
  };

  if (
    call.op === 'assign' &&
    call.addRoles.length + call.addGroups.length + call.removeRoles.length + call.removeGroups.length === 0
  )
    return { kind: 'usage' };
  const needs = NEEDS[call.op];
  if (!admin && needs === 'admin') return denied('admin_required');
  if (!admin && needs !== 'admin' && needs.length > 0 && !needs.some(has)) return denied('permission_denied');

  switch (call.op) {
    case 'create': {
      const owner = call.owner === null ? null : userOf(call.owner);
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
    case 'users.add':
    case 'users.list':
    case 'groups.create':
    case 'groups.list':
    case 'roles.list':
    case 'notify-expiring':
    case 'audit.list':
    case 'audit.verify':
      return done;
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
      const reach = outOfReach(key);
      if (reach) return denied(reach);
      if (admin) return done;
      if (call.op === 'extend' && call.never) return denied('never_expiry_denied');
      if (call.op === 'activate' && key.deactivatedByAdmin) return denied('reactivation_denied');
      if (call.op === 'assign' && (!call.addRoles.every(holdsRole) || !call.addGroups.every(holdsGroup)))
        return denied('escalation_denied');
      return done;
    }
  }
}

// ---- making the call

async function perform(service: AkmService, call: Call): Promise<unknown> {
  const expiry = (never: boolean, days: number) =>
    never ? { kind: 'never' as const } : { kind: 'days' as const, days };
  switch (call.op) {
    case 'create':
      return service.createKey({
        name: call.name,
        type: 'access',
        expiry: expiry(call.never, 30),
        owner: call.owner,
        groups: call.groups,
        roles: call.roles,
      });
    case 'list': {
      const ids: string[] = [];
      let after: string | undefined;
      for (let pages = 0; pages < 100; pages++) {
        const page = await service.listKeys(call.owner === undefined ? {} : { owner: call.owner }, {
          limit: call.limit,
          ...(after ? { after } : {}),
        });
        ids.push(...page.items.map((k) => k.accessKeyId));
        if (!page.next) return ids;
        after = page.next;
      }
      throw new Error('listing does not end');
    }
    case 'show':
      return service.showKey(call.key);
    case 'permissions':
      return service.keyPermissions(call.key);
    case 'copy':
      return service.copyKey(call.key);
    case 'rotate':
      return service.rotateKey(call.key, 0);
    case 'activate':
    case 'deactivate':
      return service.setKeyStatus(call.key, call.op === 'activate' ? 'active' : 'inactive');
    case 'delete':
      return service.deleteKey(call.key);
    case 'extend':
      return service.extendKey(call.key, expiry(call.never, 60));
    case 'assign': {
      const { addRoles, addGroups, removeRoles, removeGroups } = call;
      return service.assignKey(call.key, { addRoles, addGroups, removeRoles, removeGroups });
    }
    case 'users.add':
      return service.addUser(call.email, 'New');
    case 'users.list':
      return service.listUsers();
    case 'users.remove':
      return service.removeUser(call.email);
    case 'groups.create':
      return service.createGroup(call.name);
    case 'groups.list':
      return service.listGroups();
    case 'groups.delete':
      return service.deleteGroup(call.group);
    case 'groups.add-member':
      return service.addGroupMember(call.group, call.email);
    case 'groups.remove-member':
      return service.removeGroupMember(call.group, call.email);
    case 'groups.add-role':
      return service.addGroupRole(call.group, call.role);
    case 'groups.remove-role':
      return service.removeGroupRole(call.group, call.role);
    case 'roles.create':
      return service.createRole(call.name, call.permissions);
    case 'roles.list':
      return service.listRoles();
    case 'roles.delete':
      return service.deleteRole(call.role);
    case 'notifications':
      return service.listNotifications({
        markRead: call.markRead,
        limit: 5,
        ...(call.user ? { user: call.user } : {}),
      });
    case 'notify-expiring':
      return service.notifyExpiring({ withinDays: 3, dryRun: true });
    case 'audit.list':
      return service.listAudit({ limit: 5 });
    case 'audit.verify':
      return service.verifyAudit();
  }
}

const EXIT: Record<Expected['kind'], number> = { done: 0, denied: 5, 'not found': 3, conflict: 4, usage: 2 };

export interface CaseEnv {
  /** reads the store as it is now (the same connection, or another one on the same file) */
  db: Db;
  tenantId: string;
  now: () => Date;
  withOperator: boolean;
  /** the id of a key in another tenant */
  foreignKey: string;
  serviceFor(actor: ModelActor): AkmService;
  /** the world's secrets, by access key id: none may appear in a denial's audit record */
  secrets: ReadonlyMap<string, string>;
}

export interface CaseOutcome {
  op: Call['op'];
  expected: Expected['kind'];
  /** the code of a denial or conflict */
  code?: string;
  /** the secret a create or rotate returned, for the next calls signed with that key */
  issued?: { keyId: string; secretKey: string };
}

function describe(actor: ModelActor, call: Call, expected: Expected): string {
  return `${actor.label} [${actor.permissions.join(' ') || 'no permissions'}] ${JSON.stringify(call)}: model says ${JSON.stringify(expected)}`;
}

/**
 * One (actor, operation, target) through the service; throws with the whole story when the model
 * disagrees. Null when nobody is left to act (every key of the world deactivated, expired or gone).
 */
export async function runCase(env: CaseEnv, spec: CaseSpec): Promise<CaseOutcome | null> {
  const world = readWorld(env.db, env.tenantId, env.now());
  const actors = actorsOf(world, env.withOperator);
  if (actors.length === 0) return null;
  const actor = actors[spec.actor % actors.length]!;
  const call = concretize(world, actor, spec.call, env.foreignKey);
  const expected = judge(world, actor, call);
  const story = describe(actor, call, expected);
  const before = tenantDump(env.db, env.tenantId);
  const auditBefore = auditLines(env.db, env.tenantId);

  let value: unknown;
  let error: AkmError | undefined;
  try {
    value = await perform(env.serviceFor(actor), call);
  } catch (thrown) {
    if (typeof (thrown as AkmError).exitCode !== 'number') throw thrown;
    error = thrown as AkmError;
  }
  const got = error ? `exit ${error.exitCode} ${error.code}: ${error.message}` : 'done';
  const fail = (why: string) => new Error(`${why}\n  ${story}\n  service: ${got}`);

  if ((error?.exitCode ?? 0) !== EXIT[expected.kind]) throw fail('the service and the model disagree');
  if ((expected.kind === 'denied' || expected.kind === 'conflict') && error!.code !== expected.code)
    throw fail('the refusal has another code');
  if (expected.kind === 'done' && expected.keys) {
    const listed = [...(value as string[])].sort();
    if (JSON.stringify(listed) !== JSON.stringify([...expected.keys].sort()))
      throw fail(`the list shows ${JSON.stringify(listed)}`);
  }
  if (expected.kind !== 'done') {
    if (JSON.stringify(tenantDump(env.db, env.tenantId)) !== JSON.stringify(before))
      throw fail('a refused call changed the tenant');
    const added = auditLines(env.db, env.tenantId).slice(auditBefore.length);
    const denial = expected.kind === 'denied';
    if (added.length !== (denial ? 1 : 0)) throw fail(`${added.length} audit records added`);
    if (denial) {
      const record = added[0]!;
      const details = JSON.parse(record.details) as { code?: string; operation?: string };
      if (record.action !== 'access.denied' || details.code !== error!.code || record.actor !== actor.label)
        throw fail(`the denial was audited as ${JSON.stringify(record)}`);
      const text = JSON.stringify(record);
      for (const secret of env.secrets.values()) if (text.includes(secret)) throw fail('a secret in the audit trail');
    }
  }
  const code = 'code' in expected ? { code: expected.code } : {};
  const secret = (value as { secretKey?: string } | undefined)?.secretKey;
  const issued = secret ? { issued: { keyId: (value as { accessKeyId: string }).accessKeyId, secretKey: secret } } : {};
  return { op: call.op, expected: expected.kind, ...code, ...issued };
}

/** Counts for t.log: cases by expected outcome and by operation. */
export class Tally {
  readonly outcomes = new Map<string, number>();
  readonly codes = new Map<string, number>();
  readonly ops = new Map<string, number>();
  cases = 0;
  skipped = 0;
  add(outcome: CaseOutcome | null): void {
    if (!outcome) {
      this.skipped++;
      return;
    }
    const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    this.cases++;
    count(this.outcomes, outcome.expected);
    if (outcome.code) count(this.codes, outcome.code);
    count(this.ops, outcome.op);
  }
  toString(): string {
    const list = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const skipped = this.skipped ? `, ${this.skipped} not run: nobody left to act` : '';
    return `${this.cases} cases${skipped} (${list(this.outcomes)}); codes: ${list(this.codes)}; operations: ${list(this.ops)}`;
  }
}
