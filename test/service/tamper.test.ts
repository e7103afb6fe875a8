/**
 * Tampering at rest with the secrets (local store): bytes edited in the database are caught where
 * the key is next used. The key row's integrity MAC covers its sealed secret and digests, so
 * `copy` (and every other command on the key) fails cleanly with tampered_record (exit 6), never
 * hands out a wrong secret; `verify` answers "not valid". (AES-GCM and the digest binding are
 * the layer below: test/unit/crypto.test.ts.)
 */
import test from 'ava';
import type Database from 'better-sqlite3';
import { TamperedRecordError } from '../../src/store/integrity.js';
import { dumpTables, rawDb } from '../helpers/db.js';
import { tempStore } from '../helpers/store.js';
import { HOUR, keyInput, refusal } from '../helpers/service.js';

type Column = 'secret_sealed' | 'secret_digest' | 'previous_digest';

const TAMPERED = { instanceOf: TamperedRecordError, exitCode: 6, code: 'tampered_record' };

function readBlob(db: Database.Database, id: string, column: Column): Buffer {
  return (db.prepare(`SELECT ${column} AS v FROM keys WHERE id = ?`).get(id) as { v: Buffer }).v;
}

function writeBlob(db: Database.Database, id: string, column: Column, value: Buffer): void {
  db.prepare(`UPDATE keys SET ${column} = ? WHERE id = ?`).run(value, id);
}

function region(i: number, length: number): string {
  if (i === 0) return 'version';
  if (i <= 12) return 'nonce';
  if (i >= length - 16) return 'tag';
  return 'ciphertext';
}

test('every flipped byte of a sealed secret (version, nonce, ciphertext, tag) makes copy fail cleanly', async (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const service = store.open();
  t.teardown(() => service.close());
  const key = await service.createKey(keyInput());
  const good = await service.copyKey(key.accessKeyId);
  // An outside connection does the tampering, as an attacker with the file would.
  const raw = rawDb(store.path);
  t.teardown(() => raw.close());
  const sealed = readBlob(raw, key.accessKeyId, 'secret_sealed');
  const counts: Record<string, number> = {};
  for (let i = 0; i < sealed.length; i++) {
    for (const mask of [0x01, 0xff]) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= mask;
      writeBlob(raw, key.accessKeyId, 'secret_sealed', bad);
      const error = await refusal(t, () => service.copyKey(key.accessKeyId), TAMPERED);
      t.false(error.message.includes(key.secretKey));
      counts[region(i, sealed.length)] = (counts[region(i, sealed.length)] ?? 0) + 1;
    }
  }
  for (const bad of [
    Buffer.alloc(0),
    sealed.subarray(0, 20),
    sealed.subarray(0, sealed.length - 1),
    Buffer.concat([sealed, Buffer.from([7])]),
  ]) {
    writeBlob(raw, key.accessKeyId, 'secret_sealed', bad);
    await refusal(t, () => service.copyKey(key.accessKeyId), TAMPERED);
  }
  writeBlob(raw, key.accessKeyId, 'secret_sealed', sealed);
  t.is((await service.copyKey(key.accessKeyId)).keyString, good.keyString, 'restored bytes work again (control)');
  t.log(
    `tampered sealed secret detected in ${Object.entries(counts)
      .map(([k, n]) => `${n} ${k}`)
      .join(', ')} cases, plus 4 truncations/extensions`,
  );
});

test('a tampered key is not resealed by a later change: rotation, deletion and the rest refuse it', async (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const service = store.open();
  t.teardown(() => service.close());
  const key = await service.createKey(keyInput());
  const raw = rawDb(store.path);
  const sealed = readBlob(raw, key.accessKeyId, 'secret_sealed');
  sealed[20]! ^= 0x10;
  writeBlob(raw, key.accessKeyId, 'secret_sealed', sealed);
  raw.close();
  const before = dumpTables(store.path);
  for (const attempt of [
    () => service.rotateKey(key.accessKeyId, 0),
    () => service.deleteKey(key.accessKeyId),
    () => service.extendKey(key.accessKeyId, { kind: 'days', days: 9 }),
    () => service.setKeyStatus(key.accessKeyId, 'inactive'),
    () => service.showKey(key.accessKeyId),
  ])
    await refusal(t, attempt, TAMPERED);
  t.deepEqual(dumpTables(store.path), before, 'nothing changed, and the altered row was not resealed');
});

test('every flipped byte of the verification digest makes verify fail; the grace digest too', async (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const service = store.open();
  t.teardown(() => service.close());
  const key = await service.createKey(keyInput());
  const rotated = await service.rotateKey(key.accessKeyId, HOUR);
  const raw = rawDb(store.path);
  t.teardown(() => raw.close());
  let cases = 0;
  for (const [column, secret] of [
    ['secret_digest', rotated.secretKey],
    ['previous_digest', key.secretKey],
  ] as Array<[Column, string]>) {
    const digest = readBlob(raw, key.accessKeyId, column);
    t.true(
      (await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid,
      `${column}: valid before (control)`,
    );
    for (let i = 0; i < digest.length; i++) {
      const bad = Buffer.from(digest);
      bad[i]! ^= 1 << (i % 8);
      writeBlob(raw, key.accessKeyId, column, bad);
      t.deepEqual(
        await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret }),
        { valid: false },
        `${column} byte ${i}`,
      );
      cases++;
    }
    writeBlob(raw, key.accessKeyId, column, digest);
    t.true(
      (await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid,
      `${column}: valid after restoring`,
    );
  }
  t.log(`${cases} single-byte digest tamperings, all answered "not valid"`);
});

test('swapping two keys’ sealed secrets or digests fails: the AAD and the digest bind them to their key', async (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const service = store.open();
  t.teardown(() => service.close());
  const a = await service.createKey(keyInput({ name: 'a' }));
  const b = await service.createKey(keyInput({ name: 'b' }));
  const raw = rawDb(store.path);
  t.teardown(() => raw.close());
  const [sa, sb] = [readBlob(raw, a.accessKeyId, 'secret_sealed'), readBlob(raw, b.accessKeyId, 'secret_sealed')];
  writeBlob(raw, a.accessKeyId, 'secret_sealed', sb);
  writeBlob(raw, b.accessKeyId, 'secret_sealed', sa);
  await refusal(t, () => service.copyKey(a.accessKeyId), TAMPERED);
  await refusal(t, () => service.copyKey(b.accessKeyId), TAMPERED);

  const [da, db] = [readBlob(raw, a.accessKeyId, 'secret_digest'), readBlob(raw, b.accessKeyId, 'secret_digest')];
  writeBlob(raw, a.accessKeyId, 'secret_digest', db);
  writeBlob(raw, b.accessKeyId, 'secret_digest', da);
  for (const [id, secret] of [
    [a.accessKeyId, a.secretKey],
    [a.accessKeyId, b.secretKey],
    [b.accessKeyId, b.secretKey],
    [b.accessKeyId, a.secretKey],
  ]) {
    t.false((await service.verifyKey({ accessKeyId: id!, secretKey: secret! })).valid);
  }
});

test('a sealed secret moved to a key of another tenant fails to open', async (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const acme = store.open();
  const globex = store.addTenant('globex');
  t.teardown(async () => {
    await acme.close();
    await globex.close();
  });
  const a = await acme.createKey(keyInput({ name: 'a' }));
  const g = await globex.createKey(keyInput({ name: 'g' }));
  t.truthy((await globex.copyKey(g.accessKeyId)).keyString);
  const raw = rawDb(store.path);
  t.teardown(() => raw.close());
  writeBlob(raw, g.accessKeyId, 'secret_sealed', readBlob(raw, a.accessKeyId, 'secret_sealed'));
  await refusal(t, () => globex.copyKey(g.accessKeyId), TAMPERED);
  // and the acme key id is not visible from globex at all
  t.false((await globex.verifyKey({ accessKeyId: a.accessKeyId, secretKey: a.secretKey, tenantId: 'globex' })).valid);
});
