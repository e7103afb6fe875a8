/**
 * No secret in clear at rest: the store's files are scanned for every secret akm issued, in
 * every encoding a careless implementation might have used. SQLite: the database file and its
 * -wal/-shm companions. PostgreSQL: after a checkpoint, the files of the test's database and
 * the write-ahead log segments written during the test (the cluster's data folder comes from
 * scripts/test.sh as AKM_TEST_PG_DATA).
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { randomString, BASE62 } from '../../src/core/base.js';
import { storeFiles } from '../helpers/db.js';
import { perEngine } from '../helpers/engines.js';
import { tempStore, type RawStore, type TempStore } from '../helpers/store.js';
import { Clock, HOUR, keyInput } from '../helpers/service.js';

/** The forms a secret could take on disk. */
function encodings(secret: string): Array<[string, Buffer]> {
  const body = secret.slice(5, -6);
  return [
    ['utf8', Buffer.from(secret)],
    ['random part', Buffer.from(body)],
    ['base64', Buffer.from(Buffer.from(secret).toString('base64'))],
    ['base64url', Buffer.from(Buffer.from(secret).toString('base64url'))],
    ['hex', Buffer.from(Buffer.from(secret).toString('hex'))],
    ['utf16le', Buffer.from(secret, 'utf16le')],
  ];
}

interface StoreFile {
  path: string;
  bytes: Buffer;
}

/**
 * The files in `dir` changed since `since`. A file may go between listing and reading: a session's
 * temporary table (t<backend>_<oid>) is removed when its session ends. Gone is not at rest.
 */
function filesUnder(dir: string, since: number): StoreFile[] {
  const files: StoreFile[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    try {
      const stat = statSync(path);
      if (stat.isFile() && stat.mtimeMs >= since) files.push({ path, bytes: readFileSync(path) });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
    }
  }
  return files;
}

/** What the store keeps on disk: the SQLite file and companions, or this database's files and the recent WAL. */
async function filesOf(store: TempStore, raw: RawStore, since: number): Promise<StoreFile[]> {
  if (store.engine === 'sqlite') return storeFiles(store.path);
  const data = process.env.AKM_TEST_PG_DATA;
  if (!data) throw new Error('AKM_TEST_PG_DATA is not set: run the tests through npm test (scripts/test.sh)');
  await raw.run('CHECKPOINT');
  const { oid } = (await raw.get<{ oid: number }>('SELECT oid FROM pg_database WHERE datname = current_database()'))!;
  return [...filesUnder(join(data, 'base', String(oid)), 0), ...filesUnder(join(data, 'pg_wal'), since)];
}

function findings(files: StoreFile[], secrets: string[]): string[] {
  const found: string[] = [];
  for (const file of files) {
    for (const secret of secrets) {
      for (const [how, needle] of encodings(secret))
        if (file.bytes.includes(needle)) found.push(`${file.path}: ${how} of ${secret.slice(0, 9)}…`);
    }
  }
  return found;
}

perEngine("no secret, current or previous, appears in the store's files on disk", async (t, engine) => {
  const since = Date.now() - 1000;
  const clock = new Clock();
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const raw = await store.raw();
  t.teardown(() => raw.close());
  const service = await store.open(clock.now);
  await service.addUser('dev@acme.test', '');
  const secrets: string[] = [];
  const keys = [];
  for (let i = 0; i < 6; i++) {
    const key = await service.createKey(
      keyInput({ name: `k${i}`, owner: i < 2 ? 'dev@acme.test' : null, roles: ['ReadOnly'] }),
    );
    keys.push(key);
    secrets.push(key.secretKey);
  }
  for (const key of keys.slice(0, 3)) secrets.push((await service.rotateKey(key.accessKeyId, HOUR)).secretKey);
  secrets.push((await service.rotateKey(keys[3]!.accessKeyId, 0)).secretKey);
  for (const key of keys) await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey });
  for (const key of keys) await service.copyKey(key.accessKeyId);
  await service.extendKey(keys[4]!.accessKeyId, { kind: 'never' });
  await service.deleteKey(keys[5]!.accessKeyId);

  // Positive control: a secret-shaped string that akm was told to store as a name IS found.
  const canary = `akms_${randomString(BASE62, 44)}abcdef`;
  await service.createKey(keyInput({ name: canary.slice(5, 49) }));
  const open = await filesOf(store, raw, since);
  if (engine === 'sqlite')
    t.true(
      open.some((f) => f.path.endsWith('-wal')),
      'the WAL is scanned while the store is open',
    );
  t.true(findings(open, [canary]).length > 0, 'the scanner finds a string that is stored');

  const whileOpen = findings(open, secrets);
  t.deepEqual(whileOpen, [], 'while open');
  const bytes = open.reduce((n, f) => n + f.bytes.length, 0);
  await service.close();
  const afterClose = findings(await filesOf(store, raw, since), secrets);
  t.deepEqual(afterClose, [], 'after close (checkpointed)');
  t.log(
    `${secrets.length} secrets × ${encodings(secrets[0]!).length} encodings searched in ${open.length} files (${bytes} bytes), none found`,
  );
});
