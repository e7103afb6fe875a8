/** The store on disk: owner-only files, foreign or newer files refused untouched, a missing store, the master key check, no secret in the files. */
import test from 'ava';
import Database from 'better-sqlite3';
import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/cli.js';

const hash = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');

test('init creates the store folder 0700 and the database 0600', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  t.is(statSync(box.storePath).mode & 0o777, 0o600);
  t.is(statSync(join(box.storePath, '..')).mode & 0o777, 0o700);
  const db = new Database(box.storePath, { readonly: true });
  t.is(db.pragma('journal_mode', { simple: true }), 'wal');
  db.close();
});

test('a file that is not SQLite is refused with exit 6 and left as it was', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const path = join(box.home, 'notes.db');
  writeFileSync(path, 'these are my notes, not a database\n'.repeat(200));
  const before = hash(path);
  const result = await box.akm(['list', '--store', path]);
  t.is(result.code, 6);
  t.regex(result.stderr, /not an akm store \(not a SQLite database\)/);
  t.is(hash(path), before);
});

test('a SQLite file of another application is refused untouched', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const path = join(box.home, 'other.db');
  const db = new Database(path);
  db.exec("CREATE TABLE photos (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO photos (name) VALUES ('cat')");
  db.close();
  const before = hash(path);
  for (const args of [['list'], ['init', '--tenant', 'x', '--admin', 'a@b.test']]) {
    const result = await box.akm([...args, '--store', path]);
    t.is(result.code, 6, result.stderr);
    t.regex(result.stderr, /SQLite database but not an akm store/);
  }
  t.is(hash(path), before);
});

test('a store from a newer akm is refused with exit 6, byte for byte unchanged', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const db = new Database(box.storePath);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.pragma('journal_mode = DELETE');
  db.pragma('user_version = 999');
  db.close();
  const before = hash(box.storePath);
  const result = await box.akm(['list']);
  t.is(result.code, 6);
  t.regex(result.stderr, /schema version 999, newer than this akm/);
  t.is(hash(box.storePath), before);
});

test('a missing store is exit 6 with a hint to run init', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const result = await box.akm(['list', '--store', join(box.home, 'no', 'such', 'folder', 'akm.db')]);
  t.is(result.code, 6);
  t.regex(result.stderr, /no akm store at/);
  // the hint's command works as printed: with the --store this run was given
  t.regex(result.stderr, /hint: run `akm --store \S+\/no\/such\/folder\/akm\.db init`/);
});

test('a wrong master key is a clear exit 6, never garbage', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const { value: key } = await box.akmJson([
    'create',
    '--name',
    'svc',
    '--tenant-level',
    '--expires-in',
    '5',
    '--no-copy',
  ]);
  const wrong = { AKM_MASTER_KEY: randomBytes(32).toString('base64') };
  for (const args of [
    ['copy', 'svc', '--print'],
    ['rotate', 'svc', '--no-copy'],
    ['create', '--name', 'b', '--tenant-level', '--expires-in', '5', '--no-copy'],
  ]) {
    const result = await box.akm(args, { env: wrong });
    t.is(result.code, 6, `${args.join(' ')}: ${result.stderr}`);
    t.regex(result.stderr, /master key does not match this store/);
    t.is(result.stdout, '');
  }
  const verify = await box.akm(['verify'], { input: key.keyString, env: wrong });
  t.is(verify.code, 6);
  // A key given explicitly is checked when the store opens, even for commands that never use it.
  const listed = await box.akm(['list'], { env: wrong });
  t.is(listed.code, 6);
  t.regex(listed.stderr, /master key does not match this store/);
  const malformedKey = await box.akm(['list'], { env: { AKM_MASTER_KEY: 'c2hvcnQ=' } });
  t.is(malformedKey.code, 6);
  t.regex(malformedKey.stderr, /not a base64-encoded 32-byte key/);
});

test('the secret never appears in the store files', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const secrets: string[] = [];
  for (let i = 0; i < 3; i++)
    secrets.push(
      (await box.akmJson(['create', '--name', `k${i}`, '--tenant-level', '--expires-in', '5', '--no-copy'])).value
        .secretKey,
    );
  secrets.push((await box.akmJson(['rotate', 'k0', '--grace', '1h', '--no-copy'])).value.secretKey);
  const files = [box.storePath, `${box.storePath}-wal`].map((p) => {
    try {
      return readFileSync(p);
    } catch {
      return Buffer.alloc(0);
    }
  });
  for (const secret of secrets) {
    const random = secret.slice(5, 49);
    for (const bytes of files) {
      t.false(bytes.includes(secret), 'whole secret');
      t.false(bytes.includes(random), 'its random part');
      t.false(bytes.includes(Buffer.from(secret).toString('base64').slice(0, 40)), 'its base64');
    }
  }
});
