/**
 * Databases as earlier versions of akm left them: the schema steps up to a version, with data
 * written through the version-1 layout (tables later steps keep), for the migration suites.
 * Generic over `migrations`, so a new step is tested without touching the tests.
 */
import Database from 'better-sqlite3';
import { randomUUID } from 'node:crypto';
import { closeSync, openSync } from 'node:fs';
import { generateAccessKeyId, generateSecretKey } from '../../src/core/credentials.js';
import { BUILTIN_ROLES } from '../../src/core/permissions.js';
import { checkValue, deriveKeys } from '../../src/crypto/keys.js';
import { sealSecret, secretDigest } from '../../src/crypto/seal.js';
import { auditMac, GENESIS_MAC } from '../../src/store/audit.js';
import { APPLICATION_ID, migrations } from '../../src/store/sqlite/schema.js';

export interface SeededKey {
  accessKeyId: string;
  secretKey: string;
}

export interface OldStore {
  version: number;
  keys: SeededKey[];
  auditRecords: number;
}

/** Write a store at `version` (0 = the empty file `akm init` starts from). */
export function buildAtVersion(path: string, version: number, masterKey: Buffer): OldStore {
  closeSync(openSync(path, 'wx', 0o600));
  if (version === 0) return { version, keys: [], auditRecords: 0 };
  const db = new Database(path);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('foreign_keys = ON');
    let seeded: { keys: SeededKey[]; auditRecords: number } = { keys: [], auditRecords: 0 };
    db.transaction(() => {
      for (const step of migrations) {
        if (step.version > version) break;
        step.up(db);
        if (step.version === 1) seeded = seedVersion1(db, masterKey);
      }
      db.pragma(`application_id = ${APPLICATION_ID}`);
      db.pragma(`user_version = ${version}`);
    }).immediate();
    return { version, ...seeded };
  } finally {
    db.close();
  }
}

/** When the seeded audit trail says the tenant key's secret was rotated (its secret's best known date). */
export const ROTATED_AT = '2026-02-03T04:05:06.000Z';
export const SEEDED_AT = '2026-01-02T03:04:05.000Z';

/** A tenant, people, roles, groups, two keys with sealed secrets and a valid audit chain, in the v1 tables. */
function seedVersion1(db: Database.Database, masterKey: Buffer): { keys: SeededKey[]; auditRecords: number } {
  const keys = deriveKeys(masterKey);
  const storeId = randomUUID();
  const at = SEEDED_AT;
  const run = (text: string, ...params: unknown[]) => db.prepare(text).run(...params);
  run(
    'INSERT INTO meta (key, value) VALUES (?, ?), (?, ?)',
    'store_id',
    storeId,
    'master_key_check',
    checkValue(keys, storeId),
  );
  run(
    'INSERT INTO tenants (id, name, operator, created_at) VALUES (?, ?, ?, ?)',
    'acme',
    'Acme',
    'admin@acme.test',
    at,
  );
  const admin = Number(
    run(
      'INSERT INTO users (tenant_id, email, name, created_at) VALUES (?, ?, ?, ?)',
      'acme',
      'admin@acme.test',
      'Admin',
      at,
    ).lastInsertRowid,
  );
  const dev = Number(
    run(
      'INSERT INTO users (tenant_id, email, name, created_at) VALUES (?, ?, ?, ?)',
      'acme',
      'dev@acme.test',
      'Dev',
      at,
    ).lastInsertRowid,
  );
  const roleIds: Record<string, number> = {};
  for (const [role, permissions] of Object.entries({ ...BUILTIN_ROLES, Deployer: ['deploy:run'] })) {
    roleIds[role] = Number(
      run(
        'INSERT INTO roles (tenant_id, name, builtin, created_at) VALUES (?, ?, ?, ?)',
        'acme',
        role,
        role === 'Deployer' ? 0 : 1,
        at,
      ).lastInsertRowid,
    );
    for (const p of permissions)
      run('INSERT INTO role_permissions (role_id, permission) VALUES (?, ?)', roleIds[role], p);
  }
  const admins = Number(
    run('INSERT INTO groups (tenant_id, name, builtin, created_at) VALUES (?, ?, 1, ?)', 'acme', 'Administrators', at)
      .lastInsertRowid,
  );
  const deployers = Number(
    run('INSERT INTO groups (tenant_id, name, builtin, created_at) VALUES (?, ?, 0, ?)', 'acme', 'Deployers', at)
      .lastInsertRowid,
  );
  run(
    'INSERT INTO group_roles (group_id, role_id) VALUES (?, ?), (?, ?)',
    admins,
    roleIds.Administrator,
    deployers,
    roleIds.Deployer,
  );
  run('INSERT INTO group_members (group_id, user_id) VALUES (?, ?), (?, ?)', admins, admin, deployers, dev);

  const seeded: SeededKey[] = [];
  const audit: Array<[string, string, string?]> = [['tenant.init', 'acme']];
  for (const [name, owner] of [
    ['tenant-key', null],
    ['dev-key', dev],
  ] as Array<[string, number | null]>) {
    const accessKeyId = generateAccessKeyId();
    const secretKey = generateSecretKey();
    run(
      `INSERT INTO keys (id, tenant_id, name, type, status, owner_id, secret_sealed, secret_digest, expires_at, created_at, created_by, modified_at, modified_by)
       VALUES (?, 'acme', ?, 'access', 'active', ?, ?, ?, NULL, ?, 'admin@acme.test', ?, 'admin@acme.test')`,
      accessKeyId,
      name,
      owner,
      sealSecret(keys, 'acme', accessKeyId, secretKey),
      secretDigest(keys, 'acme', accessKeyId, secretKey),
      at,
      at,
    );
    run('INSERT INTO key_roles (key_id, role_id) VALUES (?, ?)', accessKeyId, roleIds.ReadOnly);
    if (owner !== null) run('INSERT INTO key_groups (key_id, group_id) VALUES (?, ?)', accessKeyId, deployers);
    seeded.push({ accessKeyId, secretKey });
    audit.push(['key.create', accessKeyId]);
  }
  // A rotation recorded in the trail: migration 5 dates the tenant key's secret by it.
  audit.push(['key.rotate', seeded[0]!.accessKeyId, ROTATED_AT]);
  let prev = GENESIS_MAC;
  audit.forEach(([action, target, when], i) => {
    const row = {
      seq: i + 1,
      tenant_id: 'acme',
      at: when ?? at,
      actor: 'admin@acme.test',
      action,
      target,
      details: '{}',
      source: 'seed',
      prev_mac: prev,
    };
    const mac = auditMac(keys.audit, row);
    run(
      'INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
      row.seq,
      row.tenant_id,
      row.at,
      row.actor,
      row.action,
      row.target,
      row.details,
      row.source,
      row.prev_mac,
      mac,
    );
    prev = mac;
  });
  return { keys: seeded, auditRecords: audit.length };
}

/**
 * Tables a later migration renamed: their rows live on under the new name (migration 4 keeps the
 * single audit chain as audit_v2 until the first run with the master key re-chains it per tenant).
 */
const RENAMED: Record<string, string> = { audit: 'audit_v2', audit_head: 'audit_head_v2' };

/** Rows of `before` that are missing from `after` (compared on the columns `before` has). */
export function missingRows(
  before: Record<string, Array<Record<string, unknown>>>,
  after: Record<string, Array<Record<string, unknown>>>,
): string[] {
  const missing: string[] = [];
  for (const [table, rows] of Object.entries(before)) {
    const renamed = RENAMED[table];
    const later = renamed && after[renamed] ? [...(after[table] ?? []), ...after[renamed]] : after[table];
    if (!later) {
      if (rows.length > 0) missing.push(`table ${table} is gone with ${rows.length} row(s)`);
      continue;
    }
    const columns = rows[0] ? Object.keys(rows[0]) : [];
    const project = (row: Record<string, unknown>) =>
      JSON.stringify(columns.map((c) => (Buffer.isBuffer(row[c]) ? row[c].toString('hex') : row[c])));
    const present = new Set(later.map(project));
    for (const row of rows) if (!present.has(project(row))) missing.push(`${table}: ${project(row)}`);
  }
  return missing;
}

export function tableRows(path: string): Record<string, Array<Record<string, unknown>>> {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const out: Record<string, Array<Record<string, unknown>>> = {};
    for (const { name } of db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'")
      .all() as Array<{ name: string }>) {
      out[name] = db.prepare(`SELECT * FROM "${name}"`).all() as Array<Record<string, unknown>>;
    }
    return out;
  } finally {
    db.close();
  }
}
