/**
 * Migrations (issue 5 item 8), generic over `migrations`: every earlier version upgrades
 * cleanly with its data intact; a newer one is refused untouched; a SIGKILL during a migration
 * leaves the old schema or the new one, never a mix. Scale the kills with AKM_MIGRATION_KILLS.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { randomBytes } from 'node:crypto';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UnavailableError } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import { openDatabase } from '../../src/store/sqlite/open.js';
import { APPLICATION_ID, LATEST_VERSION, migrations } from '../../src/store/sqlite/schema.js';
import { envInt, fixture, killHard, sleep, spawnNode, type Child } from '../helpers/children.js';
import { listDir, schemaOf, sha256File } from '../helpers/db.js';
import { buildAtVersion, missingRows, ROTATED_AT, SEEDED_AT, tableRows } from '../helpers/migrations.js';
import { keyInput } from '../helpers/service.js';

const versions = [0, ...migrations.map((m) => m.version)];
const older = versions.filter((v) => v < LATEST_VERSION);
const KILLS = envInt('AKM_MIGRATION_KILLS', process.env.CI ? 30 : 15);

function scratch(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'akm-migrate-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** The schema of each version, as built by the steps alone (reference for "old or new"). */
function referenceSchemas(dir: string): Map<number, string[]> {
  const out = new Map<number, string[]>();
  for (const v of versions) {
    const path = join(dir, `reference-v${v}.db`);
    buildAtVersion(path, v, randomBytes(32));
    out.set(v, schemaOf(path));
  }
  return out;
}

function header(path: string): { version: number; appId: number; integrity: string; foreignKeys: number } {
  const db = new Database(path, { fileMustExist: true });
  try {
    return {
      version: db.pragma('user_version', { simple: true }) as number,
      appId: db.pragma('application_id', { simple: true }) as number,
      integrity: db.pragma('integrity_check', { simple: true }) as string,
      foreignKeys: (db.pragma('foreign_key_check') as unknown[]).length,
    };
  } finally {
    db.close();
  }
}

test('the migration list is well formed: versions 1, 2, … in order', (t) => {
  t.deepEqual(
    migrations.map((m) => m.version),
    migrations.map((_, i) => i + 1),
  );
  t.is(LATEST_VERSION, migrations.length);
  t.log(`latest schema version ${LATEST_VERSION}; upgrades tested from ${older.map((v) => `v${v}`).join(', ')}`);
});

for (const from of older) {
  test(`a store at version ${from} upgrades to ${LATEST_VERSION} with its data intact and keeps working`, async (t) => {
    const dir = scratch(t);
    const schemas = referenceSchemas(dir);
    const masterKey = randomBytes(32);
    const path = join(dir, 'akm.db');
    const old = buildAtVersion(path, from, masterKey);
    const before = from === 0 ? {} : tableRows(path);

    // A v0 store is what an interrupted `akm init` leaves (an empty file); only init reopens it.
    openDatabase(path, { create: from === 0 }).close();
    const after = header(path);
    t.is(after.version, LATEST_VERSION);
    t.is(after.appId, APPLICATION_ID);
    t.is(after.integrity, 'ok');
    t.is(after.foreignKeys, 0);
    t.deepEqual(
      schemaOf(path),
      schemas.get(LATEST_VERSION),
      'the same schema as a store created at the latest version',
    );
    t.deepEqual(missingRows(before, tableRows(path)), [], 'every old row is still there');
    openDatabase(path, { create: from === 0 }).close(); // a second open is a no-op
    t.is(header(path).version, LATEST_VERSION);
    if (from === 0) return;

    // The upgraded store serves the old keys and takes new ones.
    const service = await LocalService.open({
      store: path,
      masterKey: { env: { AKM_MASTER_KEY: masterKey.toString('base64') }, keychain: () => ({}) as never },
      source: 'test',
    });
    t.teardown(() => service.close());
    for (const key of old.keys) {
      const verdict = await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey });
      t.true(verdict.valid, `seeded key ${key.accessKeyId} verifies after the upgrade`);
      t.truthy((await service.copyKey(key.accessKeyId)).keyString);
    }
    t.deepEqual(
      (await service.keyPermissions(old.keys[1]!.accessKeyId)).permissions.map(
        (p) => `${p.permission}<${p.role}<${p.viaGroup ?? ''}`,
      ),
      ['audit:read<ReadOnly<', 'deploy:run<Deployer<Deployers', 'keys:read<ReadOnly<'],
    );
    // Migration 5 dates each secret by the key's last rotation in the audit trail, else its creation.
    t.is((await service.showKey(old.keys[0]!.accessKeyId)).secretCreatedAt, ROTATED_AT);
    t.is((await service.showKey(old.keys[1]!.accessKeyId)).secretCreatedAt, SEEDED_AT);
    t.is((await service.showKey(old.keys[1]!.accessKeyId)).description, '');
    const fresh = await service.createKey(keyInput({ name: 'after-upgrade' }));
    t.true((await service.verifyKey({ accessKeyId: fresh.accessKeyId, secretKey: fresh.secretKey })).valid);
    const audit = await service.verifyAudit();
    t.true(audit.ok, `audit chain after upgrade: ${JSON.stringify(audit.problems)}`);
    t.is(audit.records, old.auditRecords + 1);
  });
}

// Migration 2 adds the sealed audit head but cannot seal it (no master key while migrating);
// the first run that derives the key seals it, so verification passes before any new write.
for (const from of older.filter((v) => v >= 1)) {
  test(`the audit chain of a store upgraded from v${from} verifies before anything new is written`, async (t) => {
    const dir = scratch(t);
    const masterKey = randomBytes(32);
    const path = join(dir, 'akm.db');
    const old = buildAtVersion(path, from, masterKey);
    const service = await LocalService.open({
      store: path,
      masterKey: { env: { AKM_MASTER_KEY: masterKey.toString('base64') }, keychain: () => ({}) as never },
      source: 'test',
    });
    t.teardown(() => service.close());
    const audit = await service.verifyAudit();
    t.true(audit.ok, JSON.stringify(audit.problems));
    t.is(audit.records, old.auditRecords);
  });
}

test('a store newer than this akm is refused with exit 6 and left byte for byte unchanged', (t) => {
  const dir = scratch(t);
  for (const ahead of [1, 7]) {
    const path = join(dir, `ahead-${ahead}.db`);
    buildAtVersion(path, LATEST_VERSION, randomBytes(32));
    const db = new Database(path);
    db.pragma(`user_version = ${LATEST_VERSION + ahead}`);
    db.close();
    const hash = sha256File(path);
    const files = listDir(dir);
    for (const attempt of [() => openDatabase(path), () => openDatabase(path, { create: true })]) {
      const error = t.throws(attempt, { instanceOf: UnavailableError });
      t.is(error?.exitCode, 6);
      t.is(error?.code, 'store_too_new');
    }
    t.is(sha256File(path), hash);
    t.deepEqual(listDir(dir), files);
  }
});

test('a SIGKILL during a migration leaves the old schema or the new one, never a mix', async (t) => {
  const dir = scratch(t);
  const schemas = referenceSchemas(dir);
  const masterKey = randomBytes(32);
  const stepDelay = 40;
  let killed = 0;
  const outcomes = { old: 0, new: 0, midStep: 0 };
  for (const from of older) {
    const pristine = join(dir, `pristine-v${from}.db`);
    buildAtVersion(pristine, from, masterKey);
    const before = from === 0 ? {} : tableRows(pristine);
    const copy = (name: string) => {
      const path = join(dir, name);
      copyFileSync(pristine, path);
      return path;
    };
    // Children load first and start on "go", so the next one loads while this one is checked.
    const spawnAt = (path: string) => spawnNode(fixture('migrate-child'), [path, String(stepDelay), 'wait']);
    const go = async (child: Child) => {
      await child.waitForLine((l) => l === 'loaded', 60_000);
      child.send('go');
    };
    // Calibrate: how long a full, unkilled migration takes on this machine.
    const calibration = spawnAt(copy(`calibrate-v${from}.db`));
    await go(calibration);
    const startedAt = Date.now();
    await calibration.waitForLine((l) => l === 'migrated', 60_000);
    const fullMs = Date.now() - startedAt;
    await calibration.exited;

    const paths = Array.from({ length: KILLS }, (_, i) => join(dir, `kill-v${from}-${i}.db`));
    copyFileSync(pristine, paths[0]!);
    let next = spawnAt(paths[0]!);
    for (let i = 0; i < KILLS; i++) {
      const child = next;
      const path = paths[i]!;
      if (i + 1 < KILLS) next = spawnAt(copy(`kill-v${from}-${i + 1}.db`));
      await go(child);
      if (i % 2 === 0) {
        // inside the transaction: right after a step ran, before the commit
        const steps = migrations.filter((m) => m.version > from);
        const step = steps[(i / 2) % steps.length]!;
        await child.waitForLine((l) => l === `step ${step.version}`, 60_000);
        outcomes.midStep++;
      } else {
        await sleep(Math.floor(Math.random() * fullMs * 1.2));
      }
      await killHard(child);
      killed++;
      const state = header(path);
      t.is(state.integrity, 'ok', `kill ${i} from v${from}`);
      t.true(
        state.version === from || state.version === LATEST_VERSION,
        `user_version ${state.version} after kill ${i}`,
      );
      const expected = state.version === LATEST_VERSION ? schemas.get(LATEST_VERSION) : schemas.get(from);
      t.deepEqual(schemaOf(path), expected, `schema matches v${state.version} exactly after kill ${i}`);
      if (state.version === LATEST_VERSION) outcomes.new++;
      else outcomes.old++;
      t.deepEqual(missingRows(before, tableRows(path)), [], `data intact after kill ${i}`);
      // and the next normal open finishes the job
      try {
        openDatabase(path, { create: from === 0 }).close();
      } catch (error) {
        t.fail(`kill ${i} from v${from}: reopening the store failed: ${(error as Error).message}`);
        continue;
      }
      t.is(header(path).version, LATEST_VERSION);
      t.deepEqual(schemaOf(path), schemas.get(LATEST_VERSION));
      rmSync(path, { force: true });
    }
    t.log(`from v${from}: an unkilled migration takes ${fullMs} ms with ${stepDelay} ms per step`);
  }
  t.log(
    `${killed} kills during migration (${outcomes.midStep} right after a step, inside the transaction): ${outcomes.old} left the old schema, ${outcomes.new} the new one, 0 a mix`,
  );
  t.true(outcomes.old > 0, 'some kills must land before the commit, or the test proves nothing');
});

test('several processes opening an old store at once migrate it once, all succeed', async (t) => {
  const dir = scratch(t);
  const from = older[older.length - 1]!;
  const path = join(dir, 'shared.db');
  buildAtVersion(path, from, randomBytes(32));
  const before = from === 0 ? {} : tableRows(path);
  const children = Array.from({ length: 4 }, () => spawnNode(fixture('migrate-child'), [path, '100']));
  const results = await Promise.all(
    children.map(async (c) => ({ exit: await c.exited, lines: c.lines, stderr: c.stderr() })),
  );
  for (const r of results) t.is(r.exit.code, 0, r.stderr);
  const ran = results.filter((r) => r.lines.some((l) => l.startsWith('step '))).length;
  t.is(ran, 1, 'exactly one process ran the steps');
  t.is(header(path).version, LATEST_VERSION);
  t.deepEqual(missingRows(before, tableRows(path)), []);
  t.log(`4 concurrent openers of a v${from} store: ${ran} migrated, ${4 - ran} found it done`);
});
