/**
 * Tenants for the authorization model: random worlds (users, groups, roles with random
 * permission sets, keys owned or tenant-level with random assignments, statuses and expiries),
 * seeded through the real service as the tenant's operator, and read back from the store with
 * plain SQL into the shape the reference model reasons about.
 */
import fc from 'fast-check';
import { keyActor, operatorActor } from '../../src/service/local/actor.js';
import { ensureStoreId, initTenant } from '../../src/service/local/bootstrap.js';
import type { LocalContext } from '../../src/service/local/context.js';
import * as keys from '../../src/service/local/keys.js';
import * as people from '../../src/service/local/people.js';
import { getKey } from '../../src/store/keys.js';
import type { Db } from '../../src/store/open.js';
import { getTenant } from '../../src/store/tenants.js';

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
 * keys "deactivated by someone else", as a powerful non-administrator key). Synchronous, so a
 * caller can wrap it in one transaction: one commit, or none when rolled back.
 */
export function seedWorld(base: LocalContext, spec: WorldSpec, now: Date): SeededWorld {
  const db = base.db;
  const tenantId = `w${++worlds}-${process.pid}`;
  const operator = `admin@${tenantId}.test`;
  initTenant(db, ensureStoreId(db), base.keys(), {
    tenantId,
    tenantName: tenantId,
    adminEmail: operator,
    adminName: 'Operator',
    now,
    source: 'seed',
  });
  const tenant = getTenant(db, tenantId)!;
  const ctx: LocalContext = { ...base, tenant, actor: operatorActor(db, tenant), now: () => now, source: 'seed' };
  const past: LocalContext = { ...ctx, now: () => new Date(now.getTime() - 30 * DAY) };
  const secrets = new Map<string, string>();

  const emails = [operator, ...spec.users.map((_, i) => `u${i}@${tenantId}.test`)];
  spec.users.forEach((user, i) => {
    people.addUser(ctx, emails[i + 1]!, `User ${i}`);
    if (user.admin) people.addGroupMember(ctx, 'Administrators', emails[i + 1]!);
  });
  if (spec.operatorLeaves && spec.users.some((u) => u.admin)) people.removeGroupMember(ctx, 'Administrators', operator);
  const roleNames = [...BUILTIN_ROLES, ...spec.roles.map((_, i) => `Role${i}`)];
  spec.roles.forEach((permissions, i) => people.createRole(ctx, `Role${i}`, permissions));
  const groupNames = ['Administrators', ...spec.groups.map((_, i) => `Group${i}`)];
  spec.groups.forEach((group, i) => {
    people.createGroup(ctx, `Group${i}`);
    for (const r of group.roles) people.addGroupRole(ctx, `Group${i}`, roleNames[r % roleNames.length]!);
    for (const m of group.members) people.addGroupMember(ctx, `Group${i}`, emails[m % emails.length]!);
  });

  people.createRole(ctx, 'Seeder', SEEDER_PERMISSIONS);
  const seeder = keys.createKey(ctx, {
    name: 'seeder',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: ['Seeder'],
  });
  secrets.set(seeder.accessKeyId, seeder.secretKey);
  const asSeeder: LocalContext = { ...ctx, actor: keyActor(db, getKey(db, tenantId, seeder.accessKeyId)!) };

  const customGroup = (g: number) => groupNames[1 + ((g - 1) % spec.groups.length)]!;
  const owned = new Map<string, number>();
  spec.keys.forEach((key, i) => {
    let owner = key.owner === null ? null : emails[key.owner % emails.length]!;
    if (owner !== null && (owned.get(owner) ?? 0) >= 2) owner = null; // two keys per user at most
    if (owner !== null) owned.set(owner, (owned.get(owner) ?? 0) + 1);
    const issued = keys.createKey(key.expiry === 'expired' ? past : ctx, {
      name: `key${i}`,
      type: 'access',
      expiry: key.expiry === 'never' ? { kind: 'never' } : { kind: 'days', days: key.expiry === 'expired' ? 1 : 30 },
      owner,
      groups: key.groups.map((g) => (g === 0 ? 'Administrators' : customGroup(g))).filter(unique()),
      roles: key.roles.map((r) => roleNames[r % roleNames.length]!).filter(unique()),
    });
    secrets.set(issued.accessKeyId, issued.secretKey);
    if (key.status === 'active') return;
    // Only an administrator acts on an administrator's key: those are deactivated by one.
    const byOther =
      key.status === 'inactive-by-other' && !keys.showKey(ctx, issued.accessKeyId).permissions.includes('*');
    keys.setKeyStatus(byOther ? asSeeder : ctx, issued.accessKeyId, 'inactive');
  });
  return { tenantId, ctx, secrets };
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
  active: boolean;
  expired: boolean;
  deactivatedByAdmin: boolean;
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

export function readWorld(db: Db, tenantId: string, now: Date): ModelWorld {
  const all = <T>(text: string, ...params: unknown[]) => db.prepare(text).all(...params) as T[];
  const operator = (db.prepare('SELECT operator FROM tenants WHERE id = ?').get(tenantId) as { operator: string })
    .operator;
  const groupRoles = all<{ group_id: number; role_id: number }>(
    'SELECT gr.* FROM group_roles gr JOIN groups g ON g.id = gr.group_id WHERE g.tenant_id = ?',
    tenantId,
  );
  const members = all<{ group_id: number; user_id: number }>(
    'SELECT m.* FROM group_members m JOIN groups g ON g.id = m.group_id WHERE g.tenant_id = ?',
    tenantId,
  );
  const groups = all<{ id: number; name: string; builtin: number }>(
    'SELECT id, name, builtin FROM groups WHERE tenant_id = ?',
    tenantId,
  ).map((g) => ({
    id: g.id,
    name: g.name,
    builtin: g.builtin === 1,
    roleIds: groupRoles.filter((r) => r.group_id === g.id).map((r) => r.role_id),
    memberIds: members.filter((m) => m.group_id === g.id).map((m) => m.user_id),
  }));
  const administrators = groups.find((g) => g.builtin && g.name === 'Administrators')!;
  const users = all<{ id: number; email: string }>('SELECT id, email FROM users WHERE tenant_id = ?', tenantId).map(
    (u) => ({ ...u, admin: administrators.memberIds.includes(u.id) }),
  );
  const permissions = all<{ role_id: number; permission: string }>(
    'SELECT rp.* FROM role_permissions rp JOIN roles r ON r.id = rp.role_id WHERE r.tenant_id = ?',
    tenantId,
  );
  const roles = all<{ id: number; name: string; builtin: number }>(
    'SELECT id, name, builtin FROM roles WHERE tenant_id = ?',
    tenantId,
  ).map((r) => ({
    id: r.id,
    name: r.name,
    builtin: r.builtin === 1,
    permissions: permissions.filter((p) => p.role_id === r.id).map((p) => p.permission),
  }));
  const keyRoles = all<{ key_id: string; role_id: number }>(
    'SELECT kr.* FROM key_roles kr JOIN keys k ON k.id = kr.key_id WHERE k.tenant_id = ?',
    tenantId,
  );
  const keyGroups = all<{ key_id: string; group_id: number }>(
    'SELECT kg.* FROM key_groups kg JOIN keys k ON k.id = kg.key_id WHERE k.tenant_id = ?',
    tenantId,
  );
  const keyRows = all<{
    id: string;
    owner_id: number | null;
    status: string;
    expires_at: string | null;
    deactivated_by_admin: number;
  }>('SELECT id, owner_id, status, expires_at, deactivated_by_admin FROM keys WHERE tenant_id = ?', tenantId);
  const keys = keyRows
    .map((k) => ({
      id: k.id,
      ownerId: k.owner_id,
      active: k.status === 'active',
      expired: k.expires_at !== null && Date.parse(k.expires_at) <= now.getTime(),
      deactivatedByAdmin: k.deactivated_by_admin === 1,
      roleIds: keyRoles.filter((r) => r.key_id === k.id).map((r) => r.role_id),
      groupIds: keyGroups.filter((g) => g.key_id === k.id).map((g) => g.group_id),
    }))
    .sort((a, b) => (a.id < b.id ? -1 : 1));
  return { tenantId, operator, users, roles, groups, keys };
}

// ---- "nothing changed": every row that belongs to the tenant

function cell(value: unknown): unknown {
  return Buffer.isBuffer(value) ? `x'${value.toString('hex')}'` : value;
}

/**
 * Every row of the tenant, table by table: rows with its tenant_id, rows whose parent (by foreign
 * key) has it, and the tenant itself. The audit trail is left to the caller (a refusal adds its own
 * record); lastUsedAt is left out (the server stamps it, a bit later, for any authenticated request).
 */
export function tenantDump(db: Db, tenantId: string): Record<string, string[]> {
  const tables = db
    .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
    .all() as Array<{ name: string }>;
  const hasTenant = (table: string) =>
    (db.pragma(`table_info("${table}")`) as Array<{ name: string }>).some((c) => c.name === 'tenant_id');
  const dump: Record<string, string[]> = {};
  for (const { name } of tables) {
    if (name.startsWith('audit')) continue;
    let rows: Array<Record<string, unknown>>;
    if (name === 'tenants') rows = db.prepare('SELECT * FROM tenants WHERE id = ?').all(tenantId) as typeof rows;
    else if (hasTenant(name))
      rows = db.prepare(`SELECT * FROM "${name}" WHERE tenant_id = ?`).all(tenantId) as typeof rows;
    else {
      const parent = (
        db.pragma(`foreign_key_list("${name}")`) as Array<{ table: string; from: string; to: string }>
      ).find((fk) => hasTenant(fk.table));
      if (!parent) continue; // store-wide bookkeeping, no tenant's data
      rows = db
        .prepare(
          `SELECT * FROM "${name}" WHERE "${parent.from}" IN (SELECT "${parent.to}" FROM "${parent.table}" WHERE tenant_id = ?)`,
        )
        .all(tenantId) as typeof rows;
    }
    dump[name] = rows
      .map((row) =>
        JSON.stringify(
          Object.entries(row)
            .filter(([k]) => k !== 'last_used_at')
            .map(([k, v]) => [k, cell(v)]),
        ),
      )
      .sort();
  }
  return dump;
}

export interface AuditLine {
  seq: number;
  actor: string;
  action: string;
  target: string | null;
  details: string;
}

export function auditLines(db: Db, tenantId: string): AuditLine[] {
  return db
    .prepare('SELECT seq, actor, action, target, details FROM audit WHERE tenant_id = ? ORDER BY seq')
    .all(tenantId) as AuditLine[];
}
