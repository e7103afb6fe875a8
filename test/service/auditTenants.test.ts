/**
 * Reproduction 8 of the authorization issue: the audit trail per tenant. Each tenant has its own
 * chain and sealed head; verification, counts and queries never cross tenants; a trail wiped
 * whole (records and head) is reported; the single chain of schema 2 is verified before it is
 * re-chained per tenant, and a store whose old chain does not verify is refused untouched.
 */
import test, { type ExecutionContext } from 'ava';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '../../src/core/errors.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { LocalService } from '../../src/service/local/service.js';
import { auditMac, headTag } from '../../src/store/audit.js';
import { openDatabase } from '../../src/store/sqlite/open.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { dumpTables, rawDb } from '../helpers/db.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { buildAtVersion } from '../helpers/migrations.js';
import { keyInput, refusal } from '../helpers/service.js';
import { twoTenants } from '../helpers/store.js';

async function interleaved(t: ExecutionContext, engine: Engine) {
  const { store, acme, globex } = await twoTenants(t, engine);
  // Interleaved, so a single chain would weave the two together.
  await acme.addUser('a1@acme.test', '');
  await globex.addUser('g1@globex.test', '');
  const key = await acme.createKey(keyInput({ name: 'shared-name' }));
  await globex.createKey(keyInput({ name: 'shared-name' }));
  await acme.deleteKey(key.accessKeyId);
  return { store, acme, globex, acmeKey: key };
}

perEngine('reproduction 8: each tenant verifies and counts its own chain only', async (t, engine) => {
  const { store, acme, globex } = await interleaved(t, engine);
  const [a, g] = [await acme.verifyAudit(), await globex.verifyAudit()];
  t.like(a, { ok: true, tenantId: 'acme', records: 4 });
  t.like(g, { ok: true, tenantId: 'globex', records: 3 });
  t.regex(a.head!, /^4:/);
  t.regex(g.head!, /^3:/);
  t.deepEqual(await acme.auditHead(), { tenantId: 'acme', head: a.head });

  // Editing one of acme's records: acme names it, globex is not concerned.
  const raw = await store.raw();
  await raw.run("UPDATE audit SET actor = 'mallory@evil.test' WHERE tenant_id = 'acme' AND seq = 2");
  await raw.close();
  t.deepEqual(
    (await acme.verifyAudit()).problems.map((p) => `${p.kind}@${p.seq}`),
    ['edited@2'],
  );
  t.like(await globex.verifyAudit(), { ok: true, records: 3, problems: [] });
});

perEngine('reproduction 8: a trail wiped whole, records and head, is reported as tampered', async (t, engine) => {
  const { store, acme, globex } = await interleaved(t, engine);
  const raw = await store.raw();
  await raw.run("DELETE FROM audit WHERE tenant_id = 'globex'");
  await raw.run("DELETE FROM audit_heads WHERE tenant_id = 'globex'");
  await raw.close();
  const wiped = await globex.verifyAudit();
  t.false(wiped.ok);
  t.is(wiped.records, 0);
  t.deepEqual(wiped.problems, [
    {
      kind: 'deleted',
      seq: 1,
      message: 'the audit trail is empty and its sealed head is gone: every record was deleted',
    },
  ]);
  await refusal(t, () => globex.auditHead(), { instanceOf: UnavailableError, exitCode: 6, code: 'audit_tampered' });
  t.true((await acme.verifyAudit()).ok, "the other tenant's trail is intact");
});

perEngine("the audit query never returns another tenant's records, whatever the filters", async (t, engine) => {
  const { acme, globex, acmeKey } = await interleaved(t, engine);
  const tenantsOf = async (s: LocalService, query = {}) => [
    ...new Set((await s.listAudit({ ...query, limit: 1000 })).items.map((r) => r.tenantId)),
  ];
  t.deepEqual(await tenantsOf(globex), ['globex']);
  t.deepEqual(await tenantsOf(acme), ['acme']);
  t.deepEqual(await tenantsOf(globex, { key: 'shared-name' }), ['globex']);
  t.deepEqual(await tenantsOf(globex, { key: acmeKey.accessKeyId }), []);
  t.deepEqual(await tenantsOf(globex, { actor: 'admin@acme.test' }), []);
  t.deepEqual(await tenantsOf(globex, { since: '2000-01-01' }), ['globex']);
  t.deepEqual(await tenantsOf(globex, { after: '999' }), ['globex']);
  t.is((await globex.listAudit({ limit: 1000 })).items.length, 3);
});

// ---- the single chain of schema 2 (SQLite: no PostgreSQL store had it)

function scratch(t: ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'akm-rechain-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** A schema-2 store whose one chain interleaves two tenants (acme from the seed, then globex). */
function oldStoreWithTwoTenants(path: string, masterKey: Buffer): void {
  buildAtVersion(path, 2, masterKey);
  const keys = deriveKeys(masterKey);
  const db = new Database(path);
  try {
    db.prepare(
      "INSERT INTO tenants (id, name, operator, created_at) VALUES ('globex', 'Globex', 'g@globex.test', ?)",
    ).run('2026-01-03T00:00:00.000Z');
    let last = db.prepare('SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: string };
    for (const [tenant, action] of [
      ['globex', 'tenant.init'],
      ['acme', 'user.add'],
      ['globex', 'user.add'],
    ] as const) {
      const row = {
        seq: last.seq + 1,
        tenant_id: tenant,
        at: '2026-01-03T00:00:00.000Z',
        actor: 'seed',
        action,
        target: null,
        details: '{}',
        source: 'seed',
        prev_mac: last.mac,
      };
      const mac = auditMac(keys.audit, row);
      db.prepare(
        `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
         VALUES (@seq, @tenant_id, @at, @actor, @action, @target, @details, @source, @prev_mac, @mac)`,
      ).run({ ...row, mac });
      last = { seq: row.seq, mac };
    }
    db.prepare('INSERT INTO audit_head (id, seq, mac, tag) VALUES (1, ?, ?, ?)').run(
      last.seq,
      last.mac,
      headTag(keys.audit, null, last.seq, last.mac),
    );
  } finally {
    db.close();
  }
}

const openAs = (path: string, masterKey: Buffer, tenantId: string) =>
  LocalService.open({
    store: path,
    tenantId,
    masterKey: { env: { AKM_MASTER_KEY: masterKey.toString('base64') }, keychain: () => ({}) as never },
    source: 'test',
  });

test('the single chain of schema 2 is verified, then re-chained per tenant in its order', async (t) => {
  const path = join(scratch(t), 'akm.db');
  const masterKey = randomBytes(32);
  oldStoreWithTwoTenants(path, masterKey);
  const acme = await openAs(path, masterKey, 'acme');
  t.teardown(() => acme.close());
  const a = await acme.verifyAudit();
  t.like(a, { ok: true, records: 5 }, JSON.stringify(a.problems)); // init, two keys, a rotation, then user.add
  t.deepEqual(
    (await acme.listAudit()).items.map((r) => `${r.seq} ${r.action}`),
    ['5 user.add', '4 key.rotate', '3 key.create', '2 key.create', '1 tenant.init'],
  );
  const globex = await openAs(path, masterKey, 'globex');
  t.teardown(() => globex.close());
  t.like(await globex.verifyAudit(), { ok: true, records: 2 });
  const tables = Object.keys(dumpTables(path));
  t.false(tables.includes('audit_v2'), 'the old chain is gone once re-chained');
  await acme.addUser('after@acme.test', '');
  t.like(await acme.verifyAudit(), { ok: true, records: 6 });
});

test('an old chain that does not verify is not re-chained: every keyed run refuses, the store stays as it was', async (t) => {
  const path = join(scratch(t), 'akm.db');
  const masterKey = randomBytes(32);
  oldStoreWithTwoTenants(path, masterKey);
  openDatabase(path).close(); // the migration itself (keyless) runs
  const raw = rawDb(path);
  raw.prepare("UPDATE audit_v2 SET actor = 'mallory@evil.test' WHERE seq = 2").run();
  raw.close();
  const before = dumpTables(path);
  const acme = await openAs(path, masterKey, 'acme');
  t.teardown(() => acme.close());
  const error = await refusal(t, () => acme.createKey(keyInput()), {
    instanceOf: UnavailableError,
    exitCode: 6,
    code: 'audit_tampered',
  });
  t.regex(error.message, /not upgraded to one chain per tenant: 1 problem\(s\), first: record #2 was edited/);
  await refusal(t, () => acme.verifyAudit(), { instanceOf: UnavailableError, exitCode: 6, code: 'audit_tampered' });
  t.deepEqual(dumpTables(path), before);
});

test('a read-only run on an upgraded store that awaits its first keyed run opens it for writing, and finishes the upgrade', async (t) => {
  const path = join(scratch(t), 'akm.db');
  const masterKey = randomBytes(32);
  const old = buildAtVersion(path, 2, masterKey);
  openDatabase(path).close(); // the migration (keyless): rows unsealed, the old chain kept
  const reader = await LocalService.open({
    store: path,
    readOnly: true,
    masterKey: { env: { AKM_MASTER_KEY: masterKey.toString('base64') }, keychain: () => ({}) as never },
  });
  t.teardown(() => reader.close());
  t.false((reader.ctx.store as SqliteStore).db.readonly, 'opened for writing this once');
  t.true((await reader.verifyKey(old.keys[0]!)).valid, 'sealed on this first keyed run, so it verifies');
  t.like(await reader.verifyAudit(), { ok: true, records: old.auditRecords, alteredRows: [] });
  await reader.close();
  const later = await LocalService.open({
    store: path,
    readOnly: true,
    masterKey: { env: { AKM_MASTER_KEY: masterKey.toString('base64') }, keychain: () => ({}) as never },
  });
  t.teardown(() => later.close());
  t.true((later.ctx.store as SqliteStore).db.readonly, 'nothing left to do: read-only again');
  t.true((await later.verifyKey(old.keys[1]!)).valid);
});
