/**
 * Tampering at rest with the secrets (local store): bytes edited in the database are caught where
 * the key is next used. The key row's integrity MAC covers its sealed secret and digests, so
 * `copy` (and every other command on the key) fails cleanly with tampered_record (exit 6), never
 * hands out a wrong secret; `verify` answers "not valid". (AES-GCM and the digest binding are
 * the layer below: test/unit/crypto.test.ts.)
 */
import { perEngine } from '../helpers/engines.js';
import { TamperedRecordError } from '../../src/store/integrity.js';
import { tempStore, twoTenants, type RawStore } from '../helpers/store.js';
import { HOUR, keyInput, refusal } from '../helpers/service.js';

type Column = 'secret_sealed' | 'secret_digest' | 'previous_digest';

const TAMPERED = { instanceOf: TamperedRecordError, exitCode: 6, code: 'tampered_record' };

async function readBlob(raw: RawStore, id: string, column: Column): Promise<Buffer> {
  return (await raw.get<{ v: Buffer }>(`SELECT ${column} AS v FROM keys WHERE id = @id`, { id }))!.v;
}

async function writeBlob(raw: RawStore, id: string, column: Column, value: Buffer): Promise<void> {
  await raw.run(`UPDATE keys SET ${column} = @value WHERE id = @id`, { value, id });
}

function region(i: number, length: number): string {
  if (i === 0) return 'version';
  if (i <= 12) return 'nonce';
  if (i >= length - 16) return 'tag';
  return 'ciphertext';
}

perEngine(
  'every flipped byte of a sealed secret (version, nonce, ciphertext, tag) makes copy fail cleanly',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    t.teardown(() => service.close());
    const key = await service.createKey(keyInput());
    const good = await service.copyKey(key.accessKeyId);
    // An outside connection does the tampering, as an attacker with access to the store would.
    const raw = await store.raw();
    t.teardown(() => raw.close());
    const sealed = await readBlob(raw, key.accessKeyId, 'secret_sealed');
    const counts: Record<string, number> = {};
    for (let i = 0; i < sealed.length; i++) {
      for (const mask of [0x01, 0xff]) {
        const bad = Buffer.from(sealed);
        bad[i]! ^= mask;
        await writeBlob(raw, key.accessKeyId, 'secret_sealed', bad);
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
      await writeBlob(raw, key.accessKeyId, 'secret_sealed', bad);
      await refusal(t, () => service.copyKey(key.accessKeyId), TAMPERED);
    }
    await writeBlob(raw, key.accessKeyId, 'secret_sealed', sealed);
    t.is((await service.copyKey(key.accessKeyId)).keyString, good.keyString, 'restored bytes work again (control)');
    t.log(
      `tampered sealed secret detected in ${Object.entries(counts)
        .map(([k, n]) => `${n} ${k}`)
        .join(', ')} cases, plus 4 truncations/extensions`,
    );
  },
);

perEngine(
  'a tampered key is not resealed by a later change: rotation, deletion and the rest refuse it',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    t.teardown(() => service.close());
    const key = await service.createKey(keyInput());
    const raw = await store.raw();
    const sealed = await readBlob(raw, key.accessKeyId, 'secret_sealed');
    sealed[20]! ^= 0x10;
    await writeBlob(raw, key.accessKeyId, 'secret_sealed', sealed);
    const before = await raw.dump();
    for (const attempt of [
      () => service.rotateKey(key.accessKeyId, 0),
      () => service.deleteKey(key.accessKeyId),
      () => service.extendKey(key.accessKeyId, { kind: 'days', days: 9 }),
      () => service.setKeyStatus(key.accessKeyId, 'inactive'),
      () => service.showKey(key.accessKeyId),
    ])
      await refusal(t, attempt, TAMPERED);
    t.deepEqual(await raw.dump(), before, 'nothing changed, and the altered row was not resealed');
    await raw.close();
  },
);

perEngine(
  'every flipped byte of the verification digest makes verify fail; the grace digest too',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    t.teardown(() => service.close());
    const key = await service.createKey(keyInput());
    const rotated = await service.rotateKey(key.accessKeyId, HOUR);
    const raw = await store.raw();
    t.teardown(() => raw.close());
    let cases = 0;
    for (const [column, secret] of [
      ['secret_digest', rotated.secretKey],
      ['previous_digest', key.secretKey],
    ] as Array<[Column, string]>) {
      const digest = await readBlob(raw, key.accessKeyId, column);
      t.true(
        (await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid,
        `${column}: valid before (control)`,
      );
      for (let i = 0; i < digest.length; i++) {
        const bad = Buffer.from(digest);
        bad[i]! ^= 1 << (i % 8);
        await writeBlob(raw, key.accessKeyId, column, bad);
        t.deepEqual(
          await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret }),
          { valid: false },
          `${column} byte ${i}`,
        );
        cases++;
      }
      await writeBlob(raw, key.accessKeyId, column, digest);
      t.true(
        (await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid,
        `${column}: valid after restoring`,
      );
    }
    t.log(`${cases} single-byte digest tamperings, all answered "not valid"`);
  },
);

perEngine(
  'swapping two keys’ sealed secrets or digests fails: the AAD and the digest bind them to their key',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    t.teardown(() => service.close());
    const a = await service.createKey(keyInput({ name: 'a' }));
    const b = await service.createKey(keyInput({ name: 'b' }));
    const raw = await store.raw();
    t.teardown(() => raw.close());
    const [sa, sb] = [
      await readBlob(raw, a.accessKeyId, 'secret_sealed'),
      await readBlob(raw, b.accessKeyId, 'secret_sealed'),
    ];
    await writeBlob(raw, a.accessKeyId, 'secret_sealed', sb);
    await writeBlob(raw, b.accessKeyId, 'secret_sealed', sa);
    await refusal(t, () => service.copyKey(a.accessKeyId), TAMPERED);
    await refusal(t, () => service.copyKey(b.accessKeyId), TAMPERED);

    const [da, db] = [
      await readBlob(raw, a.accessKeyId, 'secret_digest'),
      await readBlob(raw, b.accessKeyId, 'secret_digest'),
    ];
    await writeBlob(raw, a.accessKeyId, 'secret_digest', db);
    await writeBlob(raw, b.accessKeyId, 'secret_digest', da);
    for (const [id, secret] of [
      [a.accessKeyId, a.secretKey],
      [a.accessKeyId, b.secretKey],
      [b.accessKeyId, b.secretKey],
      [b.accessKeyId, a.secretKey],
    ]) {
      t.false((await service.verifyKey({ accessKeyId: id!, secretKey: secret! })).valid);
    }
  },
);

perEngine('a sealed secret moved to a key of another tenant fails to open', async (t, engine) => {
  const { store, acme, globex } = await twoTenants(t, engine);
  const a = await acme.createKey(keyInput({ name: 'a' }));
  const g = await globex.createKey(keyInput({ name: 'g' }));
  t.truthy((await globex.copyKey(g.accessKeyId)).keyString);
  const raw = await store.raw();
  t.teardown(() => raw.close());
  await writeBlob(raw, g.accessKeyId, 'secret_sealed', await readBlob(raw, a.accessKeyId, 'secret_sealed'));
  await refusal(t, () => globex.copyKey(g.accessKeyId), TAMPERED);
  // and the acme key id is not visible from globex at all
  t.false((await globex.verifyKey({ accessKeyId: a.accessKeyId, secretKey: a.secretKey, tenantId: 'globex' })).valid);
});
