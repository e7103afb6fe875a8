/**
 * The SQLite store file itself: files that are not akm stores, stores from a newer akm, missing
 * and unwritable folders. Each is one clear exit-6 error, and the file is left exactly as it
 * was. (The wrong master key, on both engines: masterKey.test.ts; PostgreSQL's own: postgres.test.ts.)
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, chownSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { UnavailableError, type ErrorCode } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import { openDatabase } from '../../src/store/sqlite/open.js';
import { LATEST_VERSION } from '../../src/store/sqlite/schema.js';
import { fixture } from '../helpers/children.js';
import { listDir, sha256File } from '../helpers/db.js';
import { tempStore } from '../helpers/store.js';
import { keyInput } from '../helpers/service.js';

const run = promisify(execFile);
const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

function scratch(t: import('ava').ExecutionContext): string {
  const dir = mkdtempSync(join(tmpdir(), 'akm-file-'));
  t.teardown(() => {
    chmodRecursive(dir);
    rmSync(dir, { recursive: true, force: true });
  });
  return dir;
}

function chmodRecursive(dir: string): void {
  try {
    chmodSync(dir, 0o700);
    for (const entry of readdirSync(dir, { withFileTypes: true }))
      if (entry.isDirectory()) chmodRecursive(join(dir, entry.name));
  } catch {
    // already gone
  }
}

/** Give a tree to the unprivileged user the probe runs as (when we are root). */
function handOver(path: string): void {
  if (!isRoot) return;
  chownSync(path, NOBODY, NOBODY);
  try {
    for (const entry of readdirSync(path)) handOver(join(path, entry));
  } catch {
    // a file
  }
}

interface ProbeResult {
  ok: boolean;
  result?: unknown;
  error?: { name: string; message: string; exitCode: number | null; code?: string };
}

/** Run one operation in a child process, as an unprivileged user when we are root. */
async function probe(
  storePath: string,
  op: 'open' | 'list' | 'create' | 'init',
  masterKey: string,
): Promise<ProbeResult> {
  const { stdout } = await run(process.execPath, [fixture('store-probe'), storePath, op], {
    env: { ...process.env, AKM_MASTER_KEY: masterKey },
    timeout: 30_000,
    ...(isRoot ? { uid: NOBODY, gid: NOBODY, cwd: tmpdir() } : {}),
  });
  return JSON.parse(stdout.trim().split('\n').pop()!) as ProbeResult;
}

async function refusedToOpen(
  t: import('ava').ExecutionContext,
  path: string,
  code: ErrorCode,
  message: RegExp,
): Promise<void> {
  for (const open of [() => openDatabase(path), () => openDatabase(path, { create: true })]) {
    const error = t.throws(open, { instanceOf: UnavailableError });
    t.is(error?.exitCode, 6);
    t.is(error?.code, code);
    t.regex(error?.message ?? '', message);
  }
  const viaService = await t.throwsAsync(
    () => LocalService.open({ store: path, masterKey: { env: {}, keychain: () => ({}) as never } }),
    { instanceOf: UnavailableError },
  );
  t.is(viaService?.code, code);
}

test('a file that is not SQLite is refused with exit 6, byte for byte unchanged', async (t) => {
  const dir = scratch(t);
  for (const [name, bytes] of [
    ['notes.db', Buffer.from('these are my notes, not a database\n'.repeat(100))],
    ['random.db', randomBytes(8192)],
    // shorter than one SQLite page: SQLite alone would take it for an empty database and overwrite it
    ['short.db', Buffer.from('x')],
    ['todo.txt', Buffer.from('buy milk\nrotate the CI key\n'.repeat(10))],
  ] as Array<[string, Buffer]>) {
    const path = join(dir, name);
    writeFileSync(path, bytes);
    const before = sha256File(path);
    await refusedToOpen(t, path, 'store_invalid', /not an akm store \(not a SQLite database\)/);
    t.is(sha256File(path), before, name);
  }
  t.deepEqual(listDir(dir), ['notes.db', 'random.db', 'short.db', 'todo.txt'], 'no -wal, -shm or -journal left behind');
});

test('a SQLite database of another application is refused untouched', async (t) => {
  const dir = scratch(t);
  const withTable = join(dir, 'photos.db');
  const db = new Database(withTable);
  db.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('cat')");
  db.close();
  const walMode = join(dir, 'wal.db');
  const db2 = new Database(walMode);
  db2.pragma('journal_mode = WAL');
  db2.exec('CREATE TABLE t (x); INSERT INTO t VALUES (1)');
  db2.close();
  const otherApp = join(dir, 'other-app.db');
  const db3 = new Database(otherApp);
  db3.pragma('application_id = 1234');
  db3.close();
  for (const path of [withTable, walMode, otherApp]) {
    const before = sha256File(path);
    const files = listDir(dir);
    await refusedToOpen(t, path, 'store_foreign', /SQLite database but not an akm store/);
    t.is(sha256File(path), before);
    t.deepEqual(listDir(dir), files);
  }
});

for (const mode of ['wal', 'delete'] as const) {
  test(`a store from a newer akm (journal mode ${mode}) is refused with exit 6, byte for byte unchanged`, async (t) => {
    const store = await tempStore();
    t.teardown(store.cleanup);
    const db = new Database(store.path);
    db.pragma('wal_checkpoint(TRUNCATE)');
    if (mode === 'delete') db.pragma('journal_mode = DELETE');
    db.pragma(`user_version = ${LATEST_VERSION + 1}`);
    db.close();
    const before = sha256File(store.path);
    const files = listDir(store.dir);
    await refusedToOpen(
      t,
      store.path,
      'store_too_new',
      new RegExp(`schema version ${LATEST_VERSION + 1}, newer than this akm`),
    );
    t.is(sha256File(store.path), before);
    t.deepEqual(listDir(store.dir), files);
  });
}

test('a missing store or folder is reported, not created', (t) => {
  const dir = scratch(t);
  for (const path of [join(dir, 'none.db'), join(dir, 'no', 'such', 'folder', 'akm.db')]) {
    const error = t.throws(() => openDatabase(path), { instanceOf: UnavailableError });
    t.is(error?.exitCode, 6);
    t.is(error?.code, 'store_missing');
    t.regex(error?.hint ?? '', /akm init/);
  }
  t.deepEqual(listDir(dir), []);
  const dirAsStore = t.throws(() => openDatabase(dir), { instanceOf: UnavailableError });
  t.is(dirAsStore?.code, 'store_invalid');
});

test('init creates the folder 0700 and the file 0600', (t) => {
  const dir = scratch(t);
  const path = join(dir, 'deep', 'er', 'akm.db');
  openDatabase(path, { create: true }).close();
  t.is(statSync(path).mode & 0o777, 0o600);
  t.is(statSync(join(dir, 'deep', 'er')).mode & 0o777, 0o700);
});

test('a store folder that is not writable: init fails with exit 6 and creates nothing', async (t) => {
  const dir = scratch(t);
  const locked = join(dir, 'locked');
  mkdirSync(locked);
  handOver(dir);
  chmodSync(locked, 0o555);
  const result = await probe(join(locked, 'sub', 'akm.db'), 'init', randomBytes(32).toString('base64'));
  t.false(result.ok, JSON.stringify(result));
  t.is(result.error?.exitCode, 6, JSON.stringify(result.error));
  t.is(result.error?.code, 'store_unwritable');
  const inPlace = await probe(join(locked, 'akm.db'), 'init', randomBytes(32).toString('base64'));
  t.is(inPlace.error?.exitCode, 6, JSON.stringify(inPlace));
  t.deepEqual(listDir(locked), []);
  t.log(`probes ran as uid ${isRoot ? NOBODY : process.getuid?.()}`);
});

test('a read-only store (file 0444 in a 0555 folder): writes fail with exit 6, nothing changes', async (t) => {
  const store = await tempStore();
  t.teardown(() => {
    chmodRecursive(store.dir);
    return store.cleanup();
  });
  const service = await store.open();
  await service.createKey(keyInput({ name: 'existing' }));
  await service.close();
  handOver(store.dir);
  chmodSync(store.path, 0o444);
  chmodSync(store.dir, 0o555);
  const before = sha256File(store.path);
  const files = listDir(store.dir);
  const create = await probe(store.path, 'create', store.masterKey);
  t.false(create.ok, JSON.stringify(create));
  t.is(create.error?.exitCode, 6, JSON.stringify(create.error));
  t.regex(create.error?.message ?? '', /store/);
  const list = await probe(store.path, 'list', store.masterKey);
  t.true(list.ok ? list.result === 1 : list.error?.exitCode === 6, `list: ${JSON.stringify(list)}`);
  t.is(sha256File(store.path), before);
  t.deepEqual(listDir(store.dir), files);
  t.log(
    `read-only store: create → ${create.error?.code}; list → ${list.ok ? `ok (${String(list.result)} key)` : list.error?.code}`,
  );
});
