/**
 * The calls the authorization model tries: generated as indices (so they fit any world), made
 * concrete against the world as it is (names and ids), and made through any AkmService.
 */
import fc from 'fast-check';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { AkmService } from '../../src/service/types.js';
import type { ModelActor } from './authzModel.js';
import { POOL, type ModelWorld } from './authzWorld.js';

// ---- the calls

type Index = number;
/** a key of the world, or the id of a key in another tenant */
type KeyPick = Index | 'foreign';

type KeyedOp =
  'show' | 'permissions' | 'copy' | 'rotate' | 'finish-grace' | 'activate' | 'deactivate' | 'brownout' | 'delete';
export const KEYED_OPS: KeyedOp[] = [
  'show',
  'permissions',
  'copy',
  'rotate',
  'finish-grace',
  'activate',
  'deactivate',
  'brownout',
  'delete',
];
type PlainOp =
  | 'notify-expiring'
  | 'audit.list'
  | 'audit.verify'
  | 'webhooks.add'
  | 'webhooks.list'
  | 'webhooks.remove'
  | 'webhooks.test'
  | 'deliver';
const PLAIN_OPS: PlainOp[] = [
  'notify-expiring',
  'audit.list',
  'audit.verify',
  'webhooks.add',
  'webhooks.list',
  'webhooks.remove',
  'webhooks.test',
  'deliver',
];

export type OpSpec =
  | {
      op: 'create';
      owner: 'self' | 'tenant' | Index;
      roles: Index[];
      groups: Index[];
      never: boolean;
      canary: boolean;
    }
  | { op: 'list'; owner: Index | null; limit: number }
  | { op: KeyedOp; key: KeyPick }
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
  | { op: PlainOp }
  | { op: 'edit'; key: KeyPick; description: boolean }
  | { op: 'report' | 'policy.show' }
  | { op: 'policy.set'; maxLifetimeDays: number; dryRun: boolean }
  | { op: 'policy.apply'; dryRun: boolean }
  | { op: 'bulk'; action: BulkKind; keys: KeyPick[]; never: boolean; dryRun: boolean }
  | { op: 'master-key.export' | 'master-key.rotate' };

export type BulkKind = 'activate' | 'deactivate' | 'delete' | 'extend';

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
        canary: fc.nat(5).map((n) => n === 0),
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
      arbitrary: fc.record({ op: fc.constantFrom(...KEYED_OPS), key: keyPick }),
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
      arbitrary: fc.record({ op: fc.constantFrom(...PLAIN_OPS) }),
    },
    { weight: 2, arbitrary: fc.record({ op: fc.constant('edit' as const), key: keyPick, description: fc.boolean() }) },
    { weight: 2, arbitrary: fc.record({ op: fc.constantFrom<'report' | 'policy.show'>('report', 'policy.show') }) },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('policy.set' as const),
        // Never below the 30 and 60 days the other calls ask for: the model judges the rule, not the policy.
        maxLifetimeDays: fc.constantFrom(90, 365),
        dryRun: fc.boolean(),
      }),
    },
    { weight: 1, arbitrary: fc.record({ op: fc.constant('policy.apply' as const), dryRun: fc.boolean() }) },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('bulk' as const),
        action: fc.constantFrom<BulkKind>('activate', 'deactivate', 'delete', 'extend'),
        keys: fc.array(keyPick, { minLength: 1, maxLength: 3 }),
        never: fc.boolean(),
        dryRun: fc.boolean(),
      }),
    },
    {
      weight: 1,
      arbitrary: fc.record({
        op: fc.constantFrom<'master-key.export' | 'master-key.rotate'>('master-key.export', 'master-key.rotate'),
      }),
    },
  ),
});

/** The call with names and ids in place of indices. */
export type Call =
  | {
      op: 'create';
      name: string;
      owner: string | null;
      roles: string[];
      groups: string[];
      never: boolean;
      canary: boolean;
    }
  | { op: 'list'; owner?: string; limit: number }
  | { op: KeyedOp; key: string }
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
  | { op: 'users.list' | 'groups.list' | 'roles.list' | PlainOp }
  | { op: 'master-key.export' | 'master-key.rotate' }
  | { op: 'users.remove'; email: string }
  | { op: 'groups.create'; name: string }
  | { op: 'groups.delete'; group: string }
  | { op: 'groups.add-member' | 'groups.remove-member'; group: string; email: string }
  | { op: 'groups.add-role' | 'groups.remove-role'; group: string; role: string }
  | { op: 'roles.create'; name: string; permissions: string[] }
  | { op: 'roles.delete'; role: string }
  | { op: 'notifications'; user?: string; markRead: boolean }
  | { op: 'edit'; key: string; name: string; description: string | undefined }
  | { op: 'report' | 'policy.show' }
  | { op: 'policy.set'; maxLifetimeDays: number; dryRun: boolean }
  | { op: 'policy.apply'; dryRun: boolean }
  | { op: 'bulk'; action: BulkKind; keys: string[]; never: boolean; dryRun: boolean };

let fresh = 0;
const freshName = () => `new${++fresh}`;

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
        canary: spec.canary,
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
    case 'webhooks.add':
    case 'webhooks.list':
    case 'webhooks.remove':
    case 'webhooks.test':
    case 'deliver':
    case 'master-key.export':
    case 'master-key.rotate':
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
    case 'edit':
      return {
        op: 'edit',
        key: key(spec.key),
        name: freshName(),
        description: spec.description ? 'edited' : undefined,
      };
    case 'report':
    case 'policy.show':
      return { op: spec.op };
    case 'policy.set':
      return { op: 'policy.set', maxLifetimeDays: spec.maxLifetimeDays, dryRun: spec.dryRun };
    case 'policy.apply':
      return { op: 'policy.apply', dryRun: spec.dryRun };
    case 'bulk':
      return { op: 'bulk', action: spec.action, keys: spec.keys.map(key), never: spec.never, dryRun: spec.dryRun };
    default:
      return { op: spec.op, key: key(spec.key) };
  }
}

// ---- making the call

export async function perform(service: AkmService, call: Call): Promise<unknown> {
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
        ...(call.canary ? { canary: true } : {}),
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
    case 'finish-grace':
      return service.finishGrace(call.key);
    case 'activate':
    case 'deactivate':
      return service.setKeyStatus(call.key, call.op === 'activate' ? 'active' : 'inactive');
    case 'brownout':
      return service.setKeyStatus(call.key, 'inactive', { forMs: 5 * 60_000 });
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
    // An https URL nothing listens on: delivering to it fails at once, without the network.
    case 'webhooks.add':
      return service.addWebhook({ url: 'https://127.0.0.1:2/akm', events: ['*'] });
    case 'webhooks.list':
      return service.listWebhooks();
    case 'webhooks.remove':
      return service.removeWebhook(NO_WEBHOOK);
    case 'webhooks.test':
      return service.testWebhook(NO_WEBHOOK);
    case 'deliver':
      return service.deliver();
    case 'edit':
      return service.editKey(call.key, {
        name: call.name,
        ...(call.description ? { description: call.description } : {}),
      });
    case 'report': {
      const ids: string[] = [];
      let after: string | undefined;
      do {
        const page = await service.reportKeys({}, { limit: 3, ...(after ? { after } : {}) });
        ids.push(...page.items.map((r) => r.accessKeyId));
        after = page.next;
      } while (after);
      return ids;
    }
    case 'policy.show':
      return service.getPolicy();
    case 'policy.set':
      return service.setPolicy({ maxLifetimeDays: call.maxLifetimeDays }, { dryRun: call.dryRun });
    case 'policy.apply':
      return service.applyPolicy({ dryRun: call.dryRun });
    case 'bulk': {
      const action =
        call.action === 'extend' ? { kind: 'extend' as const, expiry: expiry(call.never, 60) } : { kind: call.action };
      return service.bulkKeys({ action, keys: call.keys, dryRun: call.dryRun });
    }
    // Dry runs: the same refusals as the real thing, and a world that stays as the model knows it
    // (the real export and rotation: test/service/masterKeyRotation.test.ts).
    case 'master-key.export':
      return service.exportMasterKey({
        file: join(tmpdir(), `akm-model-${process.pid}-never-written.key`),
        dryRun: true,
      });
    case 'master-key.rotate':
      return service.rotateMasterKey({ dryRun: true });
  }
}

/** A well-formed webhook id that names none. */
const NO_WEBHOOK = 'wh_AAAAAAAAAAAAAAAA';
