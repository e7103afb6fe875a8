/**
 * Tenants for the authorization model: random worlds (users, groups, roles with random
 * permission sets, keys owned or tenant-level with random assignments, statuses and expiries),
 * seeded through the real service as the tenant's operator, and read back from the store with
 * plain SQL into the shape the reference model reasons about.
 */
import type { Database } from 'better-sqlite3';
import fc from 'fast-check';
import { keyActor, operatorActor } from '../../src/service/local/actor.js';
import { ensureStoreId, initTenant } from '../../src/service/local/bootstrap.js';
import type { LocalContext } from '../../src/service/local/context.js';
import { createKey } from '../../src/service/local/createKey.js';
import * as keys from '../../src/service/local/keys.js';
import * as people from '../../src/service/local/people.js';
import { getKey } from '../../src/store/keys.js';
import { getTenant } from '../../src/store/tenants.js';
import type { Queryable, Store } from '../../src/store/types.js';

/** Permissions the worlds draw from: akm's own, the wildcards, and a tenant's custom ones. */
export const POOL = [
  '*',
  'keys:*',
  'keys:read',
  'keys:write',
  'keys:rotate',
  'keys:delete',
  'users:manage',
  'audit:read',
  'data:ingest',
  'data:*',
];
/** A tenant-level key that holds everything but `*`: it deactivates keys as a non-administrator would. */
const SEEDER_PERMISSIONS = ['keys:*', 'users:manage', 'audit:read', 'data:*'];
const BUILTIN_ROLES = ['Administrator', 'KeyManager', 'ReadOnly', 'Ingestion'];
const DAY = 86_400_000;

export interface WorldSpec {
  users: Array<{ admin: boolean }>;
  /** the operator leaves Administrators (when another administrator stays), so the last one can be anyone */
  operatorLeaves: boolean;
  roles: string[][];
  /** indices into builtin + custom roles, and into the users (0 = the operator) */
  groups: Array<{ roles: number[]; members: number[] }>;
  keys: Array<{
    /** null: tenant-level; otherwise an index into the users (0 = the operator) */
    owner: number | null;
    roles: number[];
    /** indices into Administrators + the custom groups */
    groups: number[];
    expiry: 'never' | 'days' | 'expired';
    status: 'active' | 'inactive-by-admin' | 'inactive-by-other';
  }>;
  /** canary keys (tenant-level, made by the operator): indices as for keys */
  canaries: Array<{ roles: number[]; groups: number[]; inactive: boolean }>;
}

const indices = (max: number) => fc.uniqueArray(fc.nat(max), { maxLength: 3 });

export const worldArb: fc.Arbitrary<WorldSpec> = fc.record({
  users: fc.array(fc.record({ admin: fc.constantFrom(false, false, false, true) }), {
    minLength: 1,
    maxLength: 4,
  }),
  operatorLeaves: fc.boolean(),
  roles: fc.array(
    fc.oneof(
      { weight: 1, arbitrary: fc.subarray(POOL, { minLength: 1, maxLength: 3 }) },
      { weight: 4, arbitrary: fc.subarray(POOL.slice(1), { minLength: 1, maxLength: 4 }) },
    ),
    { minLength: 1, maxLength: 3 },
  ),
  groups: fc.array(fc.record({ roles: indices(8), members: indices(5) }), { minLength: 1, maxLength: 3 }),
  keys: fc.array(
    fc.record({
      owner: fc.option(fc.nat(5), { freq: 3 }),
      roles: fc.uniqueArray(fc.nat(8), { maxLength: 2 }),
      groups: fc.uniqueArray(
        fc.oneof({ weight: 1, arbitrary: fc.constant(0) }, { weight: 6, arbitrary: fc.integer({ min: 1, max: 3 }) }),
        { maxLength: 2 },
      ),
      expiry: fc.constantFrom<'never' | 'days' | 'expired'>('never', 'days', 'days', 'expired'),
      status: fc.constantFrom<WorldSpec['keys'][number]['status']>(
        'active',
        'active',
        'active',
        'inactive-by-admin',
        'inactive-by-other',
      ),
    }),
    { minLength: 2, maxLength: 7 },
  ),
  canaries: fc.array(
    fc.record({
      roles: fc.uniqueArray(fc.nat(8), { maxLength: 2 }),
      groups: fc.uniqueArray(fc.nat(3), { maxLength: 2 }),
      inactive: fc.boolean(),
    }),
    { maxLength: 2 },
  ),
});

export interface SeededWorld {
  tenantId: string;
  ctx: LocalContext;
  /** the secret of every key, by access key id (for signing as it) */
  secrets: Map<string, string>;
}

let worlds = 0;

/**
 * A new tenant in the store, seeded through the service functions as its operator (and, for the
 * keys "deactivated by someone else", as a powerful non-administrator key). On SQLite a caller
 * can wrap it in a transaction opened on the connection: one commit, or none when rolled back.
 */
export async function seedWorld(base: LocalContext, spec: WorldSpec, now: Date): Promise<SeededWorld> {
  const store = base.store;
  const tenantId = `w${++worlds}-${process.pid}`;
  const operator = `admin@${tenantId}.test`;
  await initTenant(store, await ensureStoreId(store), await base.loadKeys(), {
    tenantId,
    tenantName: tenantId,
    adminEmail: operator,
    adminName: 'Operator',
    now,
    source: 'seed',
  });
  const { tenant, actor } = await store.read(async (q) => {
    const tenant = (await getTenant(q, tenantId))!;
    return { tenant, actor: await operatorActor(q, tenant) };
  });
  const ctx: LocalContext = { ...base, tenant, actor, now: () => now, source: 'seed' };
  const past: LocalContext = { ...ctx, now: () => new Date(now.getTime() - 30 * DAY) };
  const secrets = new Map<string, string>();

  const emails = [operator, ...spec.users.map((_, i) => `u${i}@${tenantId}.test`)];
  for (const [i, user] of spec.users.entries()) {
    await people.addUser(ctx, emails[i + 1]!, `User ${i}`);
    if (user.admin) await people.addGroupMember(ctx, 'Administrators', emails[i + 1]!);
  }
  if (spec.operatorLeaves && spec.users.some((u) => u.admin))
    await people.removeGroupMember(ctx, 'Administrators', operator);
  const roleNames = [...BUILTIN_ROLES, ...spec.roles.map((_, i) => `Role${i}`)];
  for (const [i, permissions] of spec.roles.entries()) await people.createRole(ctx, `Role${i}`, permissions);
  const groupNames = ['Administrators', ...spec.groups.map((_, i) => `Group${i}`)];
  for (const [i, group] of spec.groups.entries()) {
    await people.createGroup(ctx, `Group${i}`);
    for (const r of group.roles) await people.addGroupRole(ctx, `Group${i}`, roleNames[r % roleNames.length]!);
    for (const m of group.members) await people.addGroupMember(ctx, `Group${i}`, emails[m % emails.length]!);
  }

  await people.createRole(ctx, 'Seeder', SEEDER_PERMISSIONS);
  const seeder = await createKey(ctx, {
    name: 'seeder',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: ['Seeder'],
  });
  secrets.set(seeder.accessKeyId, seeder.secretKey);
  const seederActor = await store.read(async (q) => keyActor(q, (await getKey(q, tenantId, seeder.accessKeyId))!));
  const asSeeder: LocalContext = { ...ctx, actor: seederActor };

  const customGroup = (g: number) => groupNames[1 + ((g - 1) % spec.groups.length)]!;
  const owned = new Map<string, number>();
  for (const [i, key] of spec.keys.entries()) {
    let owner = key.owner === null ? null : emails[key.owner % emails.length]!;
    if (owner !== null && (owned.get(owner) ?? 0) >= 2) owner = null; // two keys per user at most
    if (owner !== null) owned.set(owner, (owned.get(owner) ?? 0) + 1);
    const issued = await createKey(key.expiry === 'expired' ? past : ctx, {
      name: `key${i}`,
      type: 'access',
      expiry: key.expiry === 'never' ? { kind: 'never' } : { kind: 'days', days: key.expiry === 'expired' ? 1 : 30 },
      owner,
      groups: key.groups.map((g) => (g === 0 ? 'Administrators' : customGroup(g))).filter(unique()),
      roles: key.roles.map((r) => roleNames[r % roleNames.length]!).filter(unique()),
    });
    secrets.set(issued.accessKeyId, issued.secretKey);
    if (key.status === 'active') continue;
    // Only an administrator acts on an administrator's key: those are deactivated by one.
    const byOther =
      key.status === 'inactive-by-other' && !(await keys.showKey(ctx, issued.accessKeyId)).permissions.includes('*');
    await keys.setKeyStatus(byOther ? asSeeder : ctx, issued.accessKeyId, 'inactive');
  }
  for (const [i, canary] of spec.canaries.entries()) {
    const issued = await createKey(ctx, {
      // Named like an ordinary key: canaries have names of their own.
      name: `key${i}`,
      type: 'access',
      expiry: { kind: 'days', days: 30 },
      owner: null,
      groups: canary.groups.map((g) => (g === 0 ? 'Administrators' : customGroup(g))).filter(unique()),
      roles: canary.roles.map((r) => roleNames[r % roleNames.length]!).filter(unique()),
      canary: true,
    });
    if (canary.inactive) await keys.setKeyStatus(ctx, issued.accessKeyId, 'inactive');
  }
  return { tenantId, ctx, secrets };
}

/**
 * SQLite only: `work` inside a transaction of the connection itself, undone at the end (the
 * store's own transactions become savepoints of it). Without a connection, `work` commits.
 */
export async function rolledBack<T>(db: Database | undefined, savepoint: string, work: () => Promise<T>): Promise<T> {
  if (!db) return work();
  db.exec(savepoint === 'run' ? 'BEGIN IMMEDIATE' : `SAVEPOINT ${savepoint}`);
  try {
    return await work();
  } finally {
    db.exec(savepoint === 'run' ? 'ROLLBACK' : `ROLLBACK TO ${savepoint}; RELEASE ${savepoint}`);
  }
}

function unique<T>(): (value: T) => boolean {
  const seen = new Set<T>();
  return (value) => !seen.has(value) && !!seen.add(value);
}

// ---- reading a tenant back, with SQL of its own

export interface ModelUser {
  id: number;
  email: string;
  /** a member of the built-in Administrators group */
  admin: boolean;
}
export interface ModelRole {
  id: number;
  name: string;
  builtin: boolean;
  permissions: string[];
}
export interface ModelGroup {
  id: number;
  name: string;
  builtin: boolean;
  roleIds: number[];
  memberIds: number[];
}
export interface ModelKey {
  id: string;
  ownerId: number | null;
  /** active now: a brownout that has ended counts as active */
  active: boolean;
  /** inactive until activated (not a brownout) */
  inactiveForGood: boolean;
  expired: boolean;
  /** inactive now, and an administrator made it so */
  deactivatedByAdmin: boolean;
  /** a canary: it never signs, and only administrators see it */
  canary: boolean;
  /** a rotation's grace is in progress: its previous secret is still accepted */
  inGrace: boolean;
  roleIds: number[];
  groupIds: number[];
}
export interface ModelWorld {
  tenantId: string;
  operator: string;
  users: ModelUser[];
  roles: ModelRole[];
  groups: ModelGroup[];
  /** in access key id order */
  keys: ModelKey[];
}

/** The tenant as the model sees it, read in one snapshot of the store (on the caller's connection). */
export function readWorld(store: Store, tenantId: string, now: Date): Promise<ModelWorld> {
  return store.read(async (q) => {
    const all = <T>(text: string) => q.all<T>(text, { tenantId });
    const { operator } = (await q.get<{ operator: string }>('SELECT operator FROM tenants WHERE id = @tenantId', {
      tenantId,
    }))!;
    const groupRoles = await all<{ group_id: number; role_id: number }>(
      'SELECT gr.* FROM group_roles gr JOIN groups g ON g.id = gr.group_id WHERE g.tenant_id = @tenantId',
    );
    const members = await all<{ group_id: number; user_id: number }>(
      'SELECT m.* FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.tenant_id = @tenantId',
    );
    const groups = (
      await all<{ id: number; name: string; builtin: number }>(
        'SELECT id, name, builtin FROM groups WHERE tenant_id = @tenantId',
      )
    ).map((g) => ({
      id: g.id,
      name: g.name,
      builtin: g.builtin === 1,
      roleIds: groupRoles.filter((r) => r.group_id === g.id).map((r) => r.role_id),
      memberIds: members.filter((m) => m.group_id === g.id).map((m) => m.user_id),
    }));
    const administrators = groups.find((g) => g.builtin && g.name === 'Administrators')!;
    const users = (
      await all<{ id: number; email: string }>('SELECT id, email FROM users WHERE tenant_id = @tenantId')
    ).map((u) => ({ ...u, admin: administrators.memberIds.includes(u.id) }));
    const permissions = await all<{ role_id: number; permission: string }>(
      'SELECT rp.* FROM role_permissions rp JOIN roles r ON r.id = rp.role_id WHERE r.tenant_id = @tenantId',
    );
    const roles = (
      await all<{ id: number; name: string; builtin: number }>(
        'SELECT id, name, builtin FROM roles WHERE tenant_id = @tenantId',
      )
    ).map((r) => ({
      id: r.id,
      name: r.name,
      builtin: r.builtin === 1,
      permissions: permissions.filter((p) => p.role_id === r.id).map((p) => p.permission),
    }));
    const keyRoles = await all<{ key_id: string; role_id: number }>(
      'SELECT kr.* FROM key_roles kr JOIN keys k ON k.id = kr.key_id WHERE k.tenant_id = @tenantId',
    );
    const keyGroups = await all<{ key_id: string; group_id: number }>(
      'SELECT kg.* FROM key_groups kg JOIN keys k ON k.id = kg.key_id WHERE k.tenant_id = @tenantId',
    );
    const keyRows = await all<{
      id: string;
      owner_id: number | null;
      status: string;
      expires_at: string | null;
      deactivated_by_admin: number;
      canary: number | null;
      inactive_until: string | null;
      previous_valid_until: string | null;
      previous_quiet_until: string | null;
    }>(
      `SELECT id, owner_id, status, expires_at, deactivated_by_admin, canary, inactive_until, previous_valid_until,
              previous_quiet_until FROM keys WHERE tenant_id = @tenantId`,
    );
    const past = (at: string | null) => at !== null && Date.parse(at) <= now.getTime();
    const keys = keyRows
      .map((k) => {
        const active = k.status === 'active' || past(k.inactive_until);
        return {
          id: k.id,
          ownerId: k.owner_id,
          active,
          inactiveForGood: k.status === 'inactive' && k.inactive_until === null,
          expired: past(k.expires_at),
          deactivatedByAdmin: k.deactivated_by_admin === 1 && !active,
          canary: k.canary === 1,
          inGrace:
            k.previous_valid_until !== null &&
            !past(k.previous_valid_until) &&
            (k.previous_quiet_until === null || !past(k.previous_quiet_until)),
          roleIds: keyRoles.filter((r) => r.key_id === k.id).map((r) => r.role_id),
          groupIds: keyGroups.filter((g) => g.key_id === k.id).map((g) => g.group_id),
        };
      })
      .sort((a, b) => (a.id < b.id ? -1 : 1));
    return { tenantId, operator, users, roles, groups, keys };
  });
}

// ---- "nothing changed": every row that belongs to the tenant

function cell(value: unknown): unknown {
  return Buffer.isBuffer(value) ? `x'${value.toString('hex')}'` : value;
}

/** The store's tables, their columns, and the foreign key (if any) of each: from either engine's catalog. */
async function catalog(q: Queryable): Promise<Array<{ name: string; columns: string[]; parents: ForeignKey[] }>> {
  const tables =
    q.dialect.engine === 'sqlite'
      ? await q.all<{ name: string }>(
          "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name",
        )
      : await q.all<{ name: string }>(
          'SELECT table_name AS name FROM information_schema.tables WHERE table_schema = current_schema() ORDER BY 1',
        );
  const out = [];
  for (const { name } of tables) {
    const columns =
      q.dialect.engine === 'sqlite'
        ? (await q.all<{ name: string }>(`PRAGMA table_info("${name}")`)).map((c) => c.name)
        : (
            await q.all<{ name: string }>(
              `SELECT column_name AS name FROM information_schema.columns
                WHERE table_schema = current_schema() AND table_name = @name`,
              { name },
            )
          ).map((c) => c.name);
    const parents =
      q.dialect.engine === 'sqlite'
        ? await q.all<ForeignKey>(`PRAGMA foreign_key_list("${name}")`)
        : await q.all<ForeignKey>(
            `SELECT ccu.table_name AS "table", kcu.column_name AS "from", ccu.column_name AS "to"
               FROM information_schema.table_constraints tc
               JOIN information_schema.key_column_usage kcu
                 ON kcu.constraint_name = tc.constraint_name AND kcu.table_schema = tc.table_schema
               JOIN information_schema.constraint_column_usage ccu
                 ON ccu.constraint_name = tc.constraint_name AND ccu.table_schema = tc.table_schema
              WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = @name`,
            { name },
          );
    out.push({ name, columns, parents });
  }
  return out;
}

interface ForeignKey {
  table: string;
  from: string;
  to: string;
}

/**
 * Every row of the tenant, table by table: rows with its tenant_id, rows whose parent (by foreign
 * key) has it, and the tenant itself. The audit trail is left to the caller (a refusal adds its own
 * record); lastUsedAt and the sources of uses are left out (the server records them, a bit later,
 * for any authenticated request).
 */
/**
 * What a server's delivery job writes in the background, whenever it gets to it: how each
 * webhook delivery went. A refused call must still enqueue nothing (the deliveries' other columns).
 */
const BACKGROUND_COLUMNS: Record<string, string[]> = {
  webhooks: ['last_attempt_at', 'last_event_type', 'last_ok', 'last_status', 'last_error'],
  webhook_deliveries: [
    'state',
    'attempts',
    'next_attempt_at',
    'claim_token',
    'lease_until',
    'last_attempt_at',
    'last_status',
    'last_error',
    'sent_at',
  ],
};

export function tenantDump(store: Store, tenantId: string): Promise<Record<string, string[]>> {
  return store.read(async (q) => {
    const tables = await catalog(q);
    const hasTenant = (table: string) => tables.find((t) => t.name === table)?.columns.includes('tenant_id') ?? false;
    const dump: Record<string, string[]> = {};
    for (const { name, parents } of tables) {
      if (name.startsWith('audit') || name === 'key_sources') continue;
      let rows: Array<Record<string, unknown>>;
      if (name === 'tenants') rows = await q.all('SELECT * FROM tenants WHERE id = @tenantId', { tenantId });
      else if (hasTenant(name)) rows = await q.all(`SELECT * FROM "${name}" WHERE tenant_id = @tenantId`, { tenantId });
      else {
        const parent = parents.find((fk) => hasTenant(fk.table));
        if (!parent) continue; // store-wide bookkeeping, no tenant's data
        rows = await q.all(
          `SELECT * FROM "${name}" WHERE "${parent.from}" IN (SELECT "${parent.to}" FROM "${parent.table}" WHERE tenant_id = @tenantId)`,
          { tenantId },
        );
      }
      dump[name] = rows
        .map((row) =>
          JSON.stringify(
            Object.entries(row)
              .filter(([k]) => k !== 'last_used_at' && !BACKGROUND_COLUMNS[name]?.includes(k))
              .map(([k, v]) => [k, cell(v)]),
          ),
        )
        .sort();
    }
    return dump;
  });
}

export interface AuditLine {
  seq: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
}

export function auditLines(store: Store, tenantId: string): Promise<AuditLine[]> {
  return store.read((q) =>
    q.all<AuditLine>('SELECT seq, actor, action, target, details FROM audit WHERE tenant_id = @tenantId ORDER BY seq', {
      tenantId,
    }),
  );
}
