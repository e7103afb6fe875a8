/**
 * Canary keys must not exist for anyone but an administrator. Two properties, run on the local
 * service and through `akm serve`, for random worlds (authzWorld.ts, with canaries) and random
 * non-administrator actors:
 *
 * - probes: every operation on one key (by id, by name, in a bulk list, as an audit filter, as
 *   a new name) answers a canary's id or name exactly as it answers an id or name that does not
 *   exist: the same outcome, exit code, code, message and hint (the reference itself masked);
 *   through the server, the same HTTP status and code as well;
 * - views: what the actor reads (keys listed a page at a time, the report, the audit trail,
 *   its bell, groups, roles, users, the policy, whoami) is the same before and after an
 *   administrator plants canaries, renames, deactivates and deletes them, and a thief trips one.
 */
import fc from 'fast-check';
import { generateAccessKeyId } from '../../src/core/credentials.js';
import type { AkmError } from '../../src/core/errors.js';
import type { LocalContext } from '../../src/service/local/context.js';
import { createKey } from '../../src/service/local/createKey.js';
import * as keys from '../../src/service/local/keys.js';
import * as people from '../../src/service/local/people.js';
import type { AkmService, BulkAction, IssuedKey } from '../../src/service/types.js';
import { KEYED_OPS } from './authzCalls.js';
import { actorsOf, type ModelActor } from './authzModel.js';
import { readWorld, worldArb, type ModelWorld, type WorldSpec } from './authzWorld.js';

/** The operations a probe makes on one key reference: those of the authorization model, and more. */
const PROBES = [...KEYED_OPS, 'extend', 'assign', 'edit', 'bulk', 'audit', 'list-name', 'rename-to'] as const;
export type ProbeOp = (typeof PROBES)[number];

export interface ProbeSpec {
  op: ProbeOp;
  /** by the canary's name rather than its id */
  byName: boolean;
  /** bulk: the action, and a key of the world listed before the probed one (an index) */
  action: BulkAction['kind'];
  before: number | null;
  dryRun: boolean;
}

export const probeArb: fc.Arbitrary<ProbeSpec> = fc.record({
  op: fc.constantFrom(...PROBES),
  byName: fc.boolean(),
  action: fc.constantFrom<BulkAction['kind']>('activate', 'deactivate', 'delete', 'extend'),
  before: fc.option(fc.nat(40)),
  dryRun: fc.boolean(),
});

/** A world with at least one canary. */
export const canaryWorldArb: fc.Arbitrary<WorldSpec> = worldArb.map((spec) => ({
  ...spec,
  canaries: spec.canaries.length > 0 ? spec.canaries : [{ roles: [0], groups: [0], inactive: false }],
}));

/** The name of the canary probed by name: no other key has it. */
export const BAIT_NAME = 'backup-admin';
const MISSING_NAME = 'backup-admin-2';

/** The actors that are not administrators. */
export function outsiders(world: ModelWorld): ModelActor[] {
  return actorsOf(world, false).filter((a) => !a.permissions.includes('*'));
}

/** The one canary probed by name, planted by the operator (in the caller's transaction, if any). */
export function plantBait(ctx: LocalContext): Promise<IssuedKey> {
  return createKey(ctx, {
    name: BAIT_NAME,
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: ['Administrators'],
    roles: [],
    canary: true,
  });
}

/** One call on `ref` through the service; the answer as anyone could see it, with `ref` masked. */
async function call(service: AkmService, world: ModelWorld, actor: ModelActor, spec: ProbeSpec, ref: string) {
  const ordinary = world.keys.filter((k) => !k.canary);
  const other = spec.before === null ? null : ordinary[spec.before % ordinary.length]!.id;
  const own = actor.keyId!;
  switch (spec.op) {
    case 'show':
      return service.showKey(ref);
    case 'permissions':
      return service.keyPermissions(ref);
    case 'copy':
      return service.copyKey(ref);
    case 'rotate':
      return service.rotateKey(ref, 0);
    case 'finish-grace':
      return service.finishGrace(ref);
    case 'activate':
    case 'deactivate':
      return service.setKeyStatus(ref, spec.op === 'activate' ? 'active' : 'inactive');
    case 'brownout':
      return service.setKeyStatus(ref, 'inactive', { forMs: 5 * 60_000 });
    case 'delete':
      return service.deleteKey(ref);
    case 'extend':
      return service.extendKey(ref, { kind: 'days', days: 10 });
    case 'assign':
      return service.assignKey(ref, {
        addRoles: actor.roles.slice(0, 1),
        addGroups: [],
        removeRoles: [],
        removeGroups: [],
      });
    case 'edit':
      return service.editKey(ref, { description: 'probed' });
    case 'bulk': {
      const action: BulkAction =
        spec.action === 'extend' ? { kind: 'extend', expiry: { kind: 'days', days: 10 } } : { kind: spec.action };
      return service.bulkKeys({ action, keys: other ? [other, ref] : [ref], dryRun: spec.dryRun });
    }
    case 'audit':
      return service.listAudit({ key: ref, limit: 5 });
    case 'list-name':
      return service.listKeys({ name: ref });
    case 'rename-to':
      // The actor's own key takes the name (and gives it back): is it taken?
      return service.editKey(own, { name: ref });
  }
}

export interface Answer {
  outcome: string;
  /** through the server: the status and code of the request as the server logged it */
  wire?: string;
}

/** What `spec` answers for `ref`, as comparable text. */
export async function probe(
  service: AkmService,
  world: ModelWorld,
  actor: ModelActor,
  spec: ProbeSpec,
  ref: string,
  lastWire?: () => string,
): Promise<Answer> {
  // The reference, and the times (through the server, two answers are not made in the same millisecond).
  const got = await answerOf(() => call(service, world, actor, spec, ref), lastWire);
  const mask = (text: string) => text.split(ref).join('<REF>');
  return { outcome: mask(got.outcome), ...(got.wire ? { wire: mask(got.wire) } : {}) };
}

/**
 * Left out of every comparison: when a key was last used, and from where. A server records uses
 * in the background, once a second, so the same answer may or may not carry the probes' own use.
 */
function withoutUses(key: string, value: unknown): unknown {
  return key === 'lastUsedAt' || key === 'lastUsedFrom' ? undefined : value;
}

/** The answer of one call as comparable text, the times masked (two answers are not made in the same millisecond). */
async function answerOf(work: () => Promise<unknown>, lastWire?: () => string): Promise<Answer> {
  const mask = (text: string) => text.replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z/g, '<TIME>');
  let outcome: string;
  try {
    outcome = `done ${JSON.stringify(await work(), withoutUses)}`;
  } catch (thrown) {
    const error = thrown as AkmError;
    if (typeof error.exitCode !== 'number') throw thrown;
    outcome = `exit ${error.exitCode} ${error.code}: ${error.message} (hint: ${String(error.hint)})`;
  }
  return { outcome: mask(outcome), ...(lastWire ? { wire: lastWire() } : {}) };
}

/** A reference to a key that is not there, of the same kind as the canary's. */
export function missingRef(byName: boolean): string {
  return byName ? MISSING_NAME : generateAccessKeyId();
}

/**
 * The probes of one world: for each, the canary's answer and the missing key's; throws on the
 * first difference, with both.
 */
export async function checkProbes(
  serviceFor: (actor: ModelActor) => AkmService | Promise<AkmService>,
  world: NamedWorld,
  actor: ModelActor,
  canary: { id: string; name: string },
  probes: ProbeSpec[],
  isolate: (work: () => Promise<Answer>) => Promise<Answer>,
  lastWire?: () => string,
): Promise<number> {
  const service = await serviceFor(actor);
  // Where nothing is rolled back, a rename to the canary's name must come last: it would show in
  // the history by name that a probe after it reads.
  const ordered = [...probes].sort((a, b) => Number(a.op === 'rename-to') - Number(b.op === 'rename-to'));
  for (const spec of ordered) {
    const ref = spec.byName ? canary.name : canary.id;
    const bait = await isolate(() => probe(service, world, actor, spec, ref, lastWire));
    const none = await isolate(() => probe(service, world, actor, spec, missingRef(spec.byName), lastWire));
    if (JSON.stringify(bait) !== JSON.stringify(none))
      throw new Error(
        `a canary answers otherwise than a key that does not exist\n  ${actor.label} [${actor.permissions.join(' ')}] ` +
          `${JSON.stringify(spec)}\n  canary:  ${JSON.stringify(bait)}\n  missing: ${JSON.stringify(none)}`,
      );
    // A rename to a free name succeeded both times: give the actor's key its name back.
    if (spec.op === 'rename-to' && bait.outcome.startsWith('done'))
      await service.editKey(actor.keyId!, { name: world.names.get(actor.keyId!)! });
  }
  return probes.length;
}

// ---- views

/** Everything one actor reads, page by page; fields that move with time alone are left out. */
export async function views(service: AkmService, actor: ModelActor): Promise<string> {
  const can = (p: string) => actor.permissions.some((h) => h === p || h === `${p.split(':')[0]}:*`);
  const out: Record<string, unknown> = { whoami: await service.whoami() };
  const pages = async <T>(next: (after?: string) => Promise<{ items: T[]; next?: string }>) => {
    const all: Array<{ items: T[]; next?: string }> = [];
    let after: string | undefined;
    do {
      const page = await next(after);
      all.push(page);
      after = page.next;
    } while (after && all.length < 200);
    return all;
  };
  // Only what the actor may read: a refusal would add a record to the trail it reads.
  if (can('keys:read')) {
    for (const limit of [1, 2, 1000])
      out[`list${limit}`] = await pages((after) => service.listKeys({}, { limit, ...(after ? { after } : {}) }));
    out.report = await pages((after) => service.reportKeys({}, { limit: 2, ...(after ? { after } : {}) }));
    out.policy = await service.getPolicy();
  }
  if (can('keys:read') || can('users:manage')) {
    out.users = await service.listUsers();
    out.groups = await service.listGroups();
    out.roles = await service.listRoles();
  }
  // An audit cursor is the MAC of the last record shown, which chains the records left out:
  // keyed with the master key, it says nothing to whoever does not hold it. Whether there is one does.
  if (can('audit:read'))
    out.audit = (await pages((after) => service.listAudit({ limit: 2, ...(after ? { after } : {}) }))).map((page) => ({
      items: page.items,
      more: page.next !== undefined,
    }));
  if (actor.userId !== null) out.bell = await service.listNotifications({ limit: 50 });
  // Bell ids are numbered across every inbox of the store: others' notices leave gaps anyway.
  const bellId = (k: string, v: unknown) => k === 'id' && typeof v === 'number';
  return JSON.stringify(out, (k, v: unknown) => (bellId(k, v) ? undefined : withoutUses(k, v)));
}

/**
 * What an administrator does with canaries that nobody else may notice: plants more (one named
 * like an ordinary key, one in a group the world uses), renames one, deactivates one, deletes one.
 * Returns the canaries left, for the caller to trip.
 */
export async function canaryActivity(ctx: LocalContext, world: NamedWorld): Promise<string[]> {
  const group = world.groups.find((g) => !g.builtin)?.name;
  const nameOf = (canary: boolean) => world.keys.filter((k) => k.canary === canary).map((k) => world.names.get(k.id)!);
  const taken = new Set(nameOf(true));
  const twin = nameOf(false).find((n) => !taken.has(n)) ?? 'twin';
  const planted: string[] = [];
  for (const [i, name] of [twin, 'decoy', 'doomed'].entries()) {
    const issued = await createKey(ctx, {
      name,
      type: 'access',
      expiry: { kind: 'days', days: 30 },
      owner: null,
      groups: i === 1 && group ? [group] : ['Administrators'],
      roles: [],
      canary: true,
    });
    planted.push(issued.accessKeyId);
  }
  await keys.editKey(ctx, planted[1]!, { name: 'decoy-renamed', description: 'bait' });
  await keys.setKeyStatus(ctx, planted[1]!, 'inactive');
  await keys.deleteKey(ctx, planted[2]!);
  return [...world.keys.filter((k) => k.canary).map((k) => k.id), planted[0]!, planted[1]!];
}

export type NamedWorld = ModelWorld & { names: Map<string, string> };

/** The world as the model reads it, plus each key's name (to give a renamed key its name back). */
export async function worldWithNames(store: LocalContext['store'], tenantId: string, now: Date): Promise<NamedWorld> {
  const world = await readWorld(store, tenantId, now);
  const rows = await store.read((q) =>
    q.all<{ id: string; name: string }>('SELECT id, name FROM keys WHERE tenant_id = @tenantId', { tenantId }),
  );
  return { ...world, names: new Map(rows.map((r) => [r.id, r.name])) };
}

// ---- changes to groups and roles a canary has

const PEOPLE_PROBES = ['group.delete', 'group.add-role', 'group.remove-role', 'role.delete'] as const;
let made = 0;

/**
 * A group and a role made by the operator, given to the canary or to nobody, then changed or
 * deleted by the actor: the answer must not depend on whether the canary has them.
 */
export async function checkPeopleProbes(
  ctx: LocalContext,
  service: AkmService,
  actor: ModelActor,
  canaryId: string,
  isolate: (work: () => Promise<Answer>) => Promise<Answer>,
  lastWire?: () => string,
): Promise<number> {
  const answer = (op: (typeof PEOPLE_PROBES)[number], onCanary: boolean) =>
    isolate(async () => {
      const group = `probe-group-${++made}`;
      const role = `probe-role-${made}`;
      await people.createGroup(ctx, group);
      await people.createRole(ctx, role, ['data:ingest']);
      await people.addGroupRole(ctx, group, role);
      if (onCanary)
        await keys.assignKey(ctx, canaryId, {
          addGroups: [group],
          addRoles: [role],
          removeGroups: [],
          removeRoles: [],
        });
      const held = actor.roles[0] ?? role;
      const calls = {
        'group.delete': () => service.deleteGroup(group),
        'group.add-role': () => service.addGroupRole(group, held),
        'group.remove-role': () => service.removeGroupRole(group, role),
        'role.delete': () => service.deleteRole(role),
      };
      const masked = (text: string) => text.split(group).join('<GROUP>').split(role).join('<ROLE>');
      const got = await answerOf(() => calls[op](), lastWire);
      return { outcome: masked(got.outcome), ...(got.wire ? { wire: masked(got.wire) } : {}) };
    });
  for (const op of PEOPLE_PROBES) {
    const bait = await answer(op, true);
    const none = await answer(op, false);
    if (JSON.stringify(bait) !== JSON.stringify(none))
      throw new Error(
        `a change to a group or role tells that a canary has it\n  ${actor.label} [${actor.permissions.join(' ')}] ` +
          `${op}\n  on the canary: ${JSON.stringify(bait)}\n  on nobody:    ${JSON.stringify(none)}`,
      );
  }
  return PEOPLE_PROBES.length;
}
