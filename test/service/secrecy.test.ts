/**
 * No secret in clear at rest: the database file and its -wal/-shm companions are scanned for
 * every secret akm issued, in every encoding a careless implementation might have used.
 */
import test from 'ava';
import { randomString, BASE62 } from '../../src/core/base.js';
import { storeFiles } from '../helpers/db.js';
import { tempStore } from '../helpers/store.js';
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

function findings(path: string, secrets: string[]): string[] {
  const found: string[] = [];
  for (const file of storeFiles(path)) {
    for (const secret of secrets) {
      for (const [how, needle] of encodings(secret))
        if (file.bytes.includes(needle)) found.push(`${file.path}: ${how} of ${secret.slice(0, 9)}…`);
    }
  }
  return found;
}

test('no secret, current or previous, appears in the database, WAL or shared-memory file', async (t) => {
  const clock = new Clock();
  const store = tempStore();
  t.teardown(store.cleanup);
  const service = store.open(clock.now);
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
  const open = storeFiles(store.path);
  t.true(
    open.some((f) => f.path.endsWith('-wal')),
    'the WAL is scanned while the store is open',
  );
  t.true(findings(store.path, [canary]).length > 0, 'the scanner finds a string that is stored');

  const whileOpen = findings(store.path, secrets);
  t.deepEqual(whileOpen, [], 'while open');
  const bytes = open.reduce((n, f) => n + f.bytes.length, 0);
  await service.close();
  const afterClose = findings(store.path, secrets);
  t.deepEqual(afterClose, [], 'after close (checkpointed)');
  t.log(
    `${secrets.length} secrets × ${encodings(secrets[0]!).length} encodings searched in ${open.length} files (${bytes} bytes), none found`,
  );
});
