/**
 * `akm master-key rotate` on the service, on both engines: every secret re-sealed (current and
 * previous), every integrity MAC and every tenant's audit chain re-keyed in one transaction, the
 * new key where the old one was; refused over tampered data; and a process still holding the
 * old key fails closed instead of writing under it.
 */
import type { ExecutionContext } from 'ava';
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AkmError, ConflictError, DeniedError, UnavailableError, UsageError } from '../../src/core/errors.js';
import { checkValue, deriveKeys } from '../../src/crypto/keys.js';
import type { MasterKeyOptions } from '../../src/crypto/masterKey.js';
import { openSecret } from '../../src/crypto/seal.js';
import { LocalService } from '../../src/service/local/service.js';
import type { IssuedKey } from '../../src/service/types.js';
import { MemoryKeychain } from '../helpers/akm.js';
import { actingAs } from '../helpers/acting.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { auditRecords, HOUR, keyInput, refusal } from '../helpers/service.js';
import { tempStore, twoTenants, type TempStore } from '../helpers/store.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';

const noKeychain = () => {
  throw new Error('no keychain in this test');
};

/** The store's key in a 0600 file: what --master-key-file gives. */
function keyFile(store: TempStore, key = store.masterKey): MasterKeyOptions & { file: string } {
  const file = join(store.dir, `master-${randomBytes(4).toString('hex')}.key`);
  writeFileSync(file, `${key}\n`, { mode: 0o600 });
  return { file, env: {}, keychain: noKeychain };
}

const readKey = (file: string) => readFileSync(file, 'utf8').trim();

function open(t: ExecutionContext, store: TempStore, masterKey: MasterKeyOptions, tenantId?: string) {
  return LocalService.open({ store: store.location, masterKey, tenantId, source: 'test' }).then((service) => {
    t.teardown(() => service.close());
    return service;
  });
}

interface Seeded {
  store: TempStore;
  /** every secret that must verify after the rotation: current ones, and previous ones in their grace */
  secrets: Array<{ key: IssuedKey; secret: string; tenant: string }>;
  /** secrets replaced without grace: never valid, before or after */
  replaced: Array<{ key: IssuedKey; secret: string }>;
}

/** Two tenants; keys tenant-level and owned, one rotated with grace, one rotated at once. */
async function seeded(t: ExecutionContext, engine: Engine): Promise<Seeded> {
  const { store, acme, globex } = await twoTenants(t, engine);
  await acme.addUser('bob@acme.test', 'Bob');
  await acme.createRole('Deployer', ['deploy:run']);
  const plain = await acme.createKey(keyInput({ name: 'plain', roles: ['ReadOnly'] }));
  const bobs = await acme.createKey(keyInput({ name: 'bobs', owner: 'bob@acme.test', roles: ['Deployer'] }));
  const graced = await acme.createKey(keyInput({ name: 'graced' }));
  const gracedNow = await acme.rotateKey(graced.accessKeyId, HOUR);
  const replaced = await acme.createKey(keyInput({ name: 'replaced' }));
  const replacedNow = await acme.rotateKey(replaced.accessKeyId, 0);
  const theirs = await globex.createKey(keyInput({ name: 'theirs' }));
  return {
    store,
    secrets: [
      { key: plain, secret: plain.secretKey, tenant: 'acme' },
      { key: bobs, secret: bobs.secretKey, tenant: 'acme' },
      { key: graced, secret: gracedNow.secretKey, tenant: 'acme' },
      { key: graced, secret: graced.secretKey, tenant: 'acme' },
      { key: replaced, secret: replacedNow.secretKey, tenant: 'acme' },
      { key: theirs, secret: theirs.secretKey, tenant: 'globex' },
    ],
    replaced: [{ key: replaced, secret: replaced.secretKey }],
  };
}

perEngine(
  'a rotation re-seals every secret and re-keys every MAC and chain; the new key replaces the old file',
  async (t, engine) => {
    const { store, secrets, replaced } = await seeded(t, engine);
    const options = keyFile(store);
    const admin = await open(t, store, options);
    const before = await store.raw();
    const sealedBefore = await before.all<{ id: string; secret_sealed: Buffer }>('SELECT id, secret_sealed FROM keys');
    await before.close();

    const planned = await admin.rotateMasterKey({ dryRun: true });
    const rotation = await admin.rotateMasterKey({});
    t.like(rotation, {
      dryRun: false,
      newKey: options.file,
      tenants: 2,
      secrets: 6,
      auditRecords: planned.auditRecords,
    });
    t.is(rotation.rows, planned.rows);
    t.true(rotation.rows >= 10, `${rotation.rows} rows`);
    const newKey = readKey(options.file);
    t.not(newKey, store.masterKey, 'the file holds the new key');
    t.false(existsSync(`${options.file}.next`), 'nothing is left beside it');

    // The old key opens nothing any more; the new one opens everything.
    const old = await open(t, store, keyFile(store));
    await refusal(t, () => old.checkMasterKey(), {
      instanceOf: UnavailableError,
      exitCode: 6,
      code: 'wrong_master_key',
    });
    const fresh = await open(t, store, options);
    for (const { key, secret, tenant } of secrets)
      t.true((await fresh.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret, tenantId: tenant })).valid);
    for (const { key, secret } of replaced)
      t.false((await fresh.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid);
    const acme = await fresh.verifyAudit();
    t.true(acme.ok, JSON.stringify(acme));
    t.is(acme.head, rotation.auditHead);
    const globex = await open(t, store, options, 'globex');
    t.true((await globex.verifyAudit()).ok);
    t.true((await admin.verifyAudit()).ok, 'the rotating service goes on with the new keys');
    await admin.createKey(keyInput({ name: 'after' }));

    // At rest: nothing sealed under the old key is left, and the check value is the new key's.
    const raw = await store.raw();
    t.teardown(() => raw.close());
    const oldKeys = deriveKeys(Buffer.from(store.masterKey, 'base64'));
    for (const row of await raw.all<{ id: string; tenant_id: string; secret_sealed: Buffer }>(
      'SELECT id, tenant_id, secret_sealed FROM keys',
    )) {
      t.throws(() => openSecret(oldKeys, row.tenant_id, row.id, row.secret_sealed), undefined, row.id);
      t.false(sealedBefore.some((b) => b.secret_sealed.equals(row.secret_sealed)));
    }
    const check = (await raw.get<{ value: string }>("SELECT value FROM meta WHERE key = 'master_key_check'"))!.value;
    const storeId = (await raw.get<{ value: string }>("SELECT value FROM meta WHERE key = 'store_id'"))!.value;
    t.is(check, checkValue(deriveKeys(Buffer.from(newKey, 'base64')), storeId));

    // Each tenant's chain says so; another tenant's record names no one of this tenant, and counts nothing.
    const mine = (await fresh.listAudit({})).items.find((r) => r.action === 'master-key.rotate')!;
    t.like(mine, { actor: 'admin@acme.test', source: 'test' });
    t.like(mine.details, { newKey: options.file, secrets: 6 });
    const theirs = (await globex.listAudit({})).items.find((r) => r.action === 'master-key.rotate')!;
    t.is(theirs.actor, 'store operator');
    t.deepEqual(Object.keys(theirs.details), ['previousHead']);
    const trail = JSON.stringify(await raw.all('SELECT * FROM audit'));
    for (const secret of [store.masterKey, newKey, ...secrets.map((s) => s.secret)])
      t.false(trail.includes(secret), 'no key or secret in the audit trail');
  },
);

perEngine('a dry run checks everything and changes nothing', async (t, engine) => {
  const { store } = await seeded(t, engine);
  const options = keyFile(store);
  const admin = await open(t, store, options);
  const raw = await store.raw();
  t.teardown(() => raw.close());
  const before = await raw.dump();
  const planned = await admin.rotateMasterKey({ dryRun: true });
  t.like(planned, { dryRun: true, newKey: null, auditHead: null, rotatedAt: null, tenants: 2, secrets: 6 });
  t.deepEqual(await raw.dump(), before);
  t.is(readKey(options.file), store.masterKey);
  t.false(existsSync(`${options.file}.next`));
});

const TAMPERING: Array<[string, (ids: { key: string }) => string, string]> = [
  ['a key row (status)', ({ key }) => `UPDATE keys SET status = 'inactive' WHERE id = '${key}'`, 'tampered_record'],
  ['a group membership', () => `DELETE FROM group_members`, 'tampered_record'],
  ['an audit record', () => `UPDATE audit SET actor = 'eve@acme.test' WHERE seq = 1`, 'audit_tampered'],
  ['a sealed secret', ({ key }) => `UPDATE keys SET secret_sealed = secret_digest WHERE id = '${key}'`, 'tampered'],
  // A rotation recomputes digests from the secrets: an altered one must stop it, not be healed.
  [
    "another key's digest",
    ({ key }) =>
      `UPDATE keys SET secret_digest = (SELECT k2.secret_digest FROM keys k2 WHERE k2.id <> '${key}' LIMIT 1)
        WHERE id = '${key}'`,
    'tampered_record',
  ],
  [
    'a previous digest',
    () => `UPDATE keys SET previous_digest = secret_digest WHERE previous_digest IS NOT NULL`,
    'tampered_record',
  ],
];

perEngine(
  'a rotation over altered data refuses (exit 6) and changes nothing: tampering is never re-keyed',
  async (t, engine) => {
    for (const [what, statement, code] of TAMPERING) {
      const { store, secrets } = await seeded(t, engine);
      const options = keyFile(store);
      const raw = await store.raw();
      await raw.run(statement({ key: secrets[0]!.key.accessKeyId }));
      const before = await raw.dump();
      const admin = await open(t, store, options);
      const error = await refusal(t, () => admin.rotateMasterKey({}), { instanceOf: AkmError, exitCode: 6 });
      t.true(error.code.startsWith(code), `${what}: ${error.code}`);
      t.deepEqual(await raw.dump(), before, `${what}: nothing changed`);
      t.is(readKey(options.file), store.masterKey, `${what}: the key file is the old one`);
      t.false(existsSync(`${options.file}.next`), `${what}: no new key was made`);
      await raw.close();
    }
  },
);

perEngine(
  'a process still holding the old key fails closed: it writes nothing, verifies nothing',
  async (t, engine) => {
    const { store, secrets } = await seeded(t, engine);
    const options = keyFile(store);
    const stale = await open(t, store, options);
    await stale.checkMasterKey();
    const rotator = await open(t, store, options);
    await rotator.rotateMasterKey({});

    const raw = await store.raw();
    t.teardown(() => raw.close());
    const before = await raw.dump();
    const rotated = { instanceOf: UnavailableError, exitCode: 6, code: 'master_key_rotated' };
    const { key, secret } = secrets[0]!;
    await refusal(t, () => stale.createKey(keyInput({ name: 'under-the-old-key' })), rotated);
    await refusal(t, () => stale.rotateKey(key.accessKeyId, 0), rotated);
    await refusal(t, () => stale.setKeyStatus(key.accessKeyId, 'inactive'), rotated);
    await refusal(t, () => stale.addUser('mallory@acme.test', ''), rotated);
    await refusal(t, () => stale.showKey(key.accessKeyId), rotated);
    t.false((await stale.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid);
    t.deepEqual(await raw.dump(), before, 'the stale process changed nothing');

    const fresh = await open(t, store, options);
    t.true((await fresh.verifyAudit()).ok);
    t.true((await fresh.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid);
  },
);

perEngine(
  'writes racing a rotation either commit before it (and are re-keyed) or refuse after it',
  async (t, engine) => {
    const { store } = await seeded(t, engine);
    const options = keyFile(store);
    const writer = await open(t, store, options);
    const rotator = await open(t, store, options);
    let n = 0;
    const create = () =>
      writer.createKey(keyInput({ name: `racer-${n++}` })).then(
        (key) => ({ key }),
        (error: { code?: string }) => ({ refused: error.code }),
      );
    const before = [await create(), await create()];
    let rotated = false;
    const rotating = rotator.rotateMasterKey({}).finally(() => (rotated = true));
    const during: Array<Awaited<ReturnType<typeof create>>> = [];
    while (!rotated) during.push(await create());
    await rotating;
    const after = [await create(), await create()];

    t.true(before.every((o) => 'key' in o));
    t.deepEqual(after, [{ refused: 'master_key_rotated' }, { refused: 'master_key_rotated' }]);
    for (const o of during) if ('refused' in o) t.is(o.refused, 'master_key_rotated');
    const fresh = await open(t, store, options);
    for (const o of [...before, ...during])
      if ('key' in o)
        t.true((await fresh.verifyKey({ accessKeyId: o.key.accessKeyId, secretKey: o.key.secretKey })).valid);
    const audit = await fresh.verifyAudit();
    t.true(audit.ok, JSON.stringify(audit.problems));
    const committed = during.filter((o) => 'key' in o).length;
    t.log(
      `during the rotation: ${committed} creates committed before it, ${during.length - committed} refused after it`,
    );
  },
);

perEngine(
  'AKM_MASTER_KEY: the new key goes to a new file named for it; the old key then says where it went',
  async (t, engine) => {
    const { store, secrets } = await seeded(t, engine);
    const admin = await store.open();
    t.teardown(() => admin.close());
    await refusal(t, () => admin.rotateMasterKey({}), {
      instanceOf: UsageError,
      exitCode: 2,
      code: 'missing_flag',
      message: /--new-key-file/,
    });
    const taken = join(store.dir, 'taken.key');
    writeFileSync(taken, 'keep me\n', { mode: 0o600 });
    await refusal(t, () => admin.rotateMasterKey({ newKeyFile: taken }), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'file_exists',
    });
    t.is(readFileSync(taken, 'utf8'), 'keep me\n');

    const file = join(store.dir, 'new.key');
    const rotation = await admin.rotateMasterKey({ newKeyFile: file });
    t.is(rotation.newKey, file);
    const stale = await store.open();
    t.teardown(() => stale.close());
    const error = await refusal(t, () => stale.checkMasterKey(), {
      instanceOf: UnavailableError,
      exitCode: 6,
      code: 'wrong_master_key',
    });
    t.true(error.hint!.includes(file), error.hint);
    const fresh = await open(t, store, { env: { AKM_MASTER_KEY: readKey(file) }, keychain: noKeychain });
    t.true((await fresh.verifyKey({ accessKeyId: secrets[0]!.key.accessKeyId, secretKey: secrets[0]!.secret })).valid);

    const printed: string[] = [];
    await fresh.rotateMasterKey({ printNewKey: (key) => printed.push(key) });
    t.is(printed.length, 1);
    const third = await open(t, store, { env: { AKM_MASTER_KEY: printed[0]! }, keychain: noKeychain });
    t.true((await third.verifyAudit()).ok);
  },
);

/** A keychain whose next `set` of `account` fails: the process dies, for the key's purposes, right there. */
class FailingKeychain extends MemoryKeychain {
  failOn: string | null = null;
  override set(account: string, secret: string): void {
    if (account === this.failOn) {
      this.failOn = null;
      throw new UnavailableError('the keychain went away');
    }
    super.set(account, secret);
  }
}

perEngine(
  'keychain: the new key replaces the old entry; cut short after the commit, the next run finishes the move',
  async (t, engine) => {
    const { store, secrets } = await seeded(t, engine);
    const keychain = new FailingKeychain();
    const options: MasterKeyOptions = { env: {}, keychain: () => keychain };
    const raw = await store.raw();
    const storeId = (await raw.get<{ value: string }>("SELECT value FROM meta WHERE key = 'store_id'"))!.value;
    await raw.close();
    keychain.set(`master-key:${storeId}`, store.masterKey);

    const admin = await open(t, store, options);
    await admin.rotateMasterKey({});
    const second = keychain.get(`master-key:${storeId}`)!;
    t.not(second, store.masterKey);
    t.is(keychain.get(`master-key-next:${storeId}`), null);

    // The commit happens, then moving the new key into place fails.
    keychain.failOn = `master-key:${storeId}`;
    await t.throwsAsync(() => admin.rotateMasterKey({}), { message: /keychain went away/ });
    t.is(keychain.get(`master-key:${storeId}`), second, 'the entry still holds the previous key');
    const third = keychain.get(`master-key-next:${storeId}`)!;
    t.truthy(third, 'the new key waits beside it');

    const next = await open(t, store, options);
    const { key, secret } = secrets[0]!;
    t.true((await next.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid);
    t.true((await next.verifyAudit()).ok);
    t.is(keychain.get(`master-key:${storeId}`), third, 'the next run finished the move');
    t.is(keychain.get(`master-key-next:${storeId}`), null);
  },
);

perEngine(
  'an audit head noted just before a rotation still verifies; an older one says why it cannot',
  async (t, engine) => {
    const { store } = await seeded(t, engine);
    const options = keyFile(store);
    const admin = await open(t, store, options);
    const older = (await admin.auditHead()).head;
    await admin.addUser('carol@acme.test', '');
    const justBefore = (await admin.auditHead()).head;
    const rotation = await admin.rotateMasterKey({});
    t.true((await admin.verifyAudit({ expectHead: justBefore })).ok, 'the head the rotation names');
    t.true((await admin.verifyAudit({ expectHead: rotation.auditHead! })).ok, 'a head noted after it');
    const stale = await admin.verifyAudit({ expectHead: older });
    t.false(stale.ok);
    t.is(stale.problems.length, 1);
    t.regex(stale.problems[0]!.message, /noted before the master key rotation .* note a new head/);
    // A forged anchor that merely looks old is not accepted either.
    const forged = `${justBefore.split(':')[0]}:${'A'.repeat(43)}`;
    t.false((await admin.verifyAudit({ expectHead: forged })).ok);
  },
);

perEngine(
  'only administrators export or rotate the master key; a refusal is audited and changes nothing',
  async (t, engine) => {
    const { store } = await seeded(t, engine);
    const options = keyFile(store);
    const admin = await open(t, store, options);
    const manager = await actingAs(admin, null, ['KeyManager']);
    const raw = await store.raw();
    t.teardown(() => raw.close());
    const denials = (await auditRecords(admin, 'access.denied')).length;
    const before = await raw.dump();
    const refused = { instanceOf: DeniedError, exitCode: 5, code: 'admin_required' };
    const file = join(store.dir, 'stolen.key');
    await refusal(t, () => manager.exportMasterKey({ file }), refused);
    await refusal(t, () => manager.rotateMasterKey({}), refused);
    await refusal(t, () => manager.rotateMasterKey({ dryRun: true }), refused);
    t.false(existsSync(file));
    const after = await raw.dump();
    t.deepEqual({ ...after, audit: [], audit_heads: [] }, { ...before, audit: [], audit_heads: [] });
    t.is((await auditRecords(admin, 'access.denied')).length, denials + 3);
  },
);

perEngine(
  'export: a new 0600 file with the key, audited without it; an existing file is never overwritten',
  async (t, engine) => {
    const { store } = await seeded(t, engine);
    const admin = await store.open();
    t.teardown(() => admin.close());
    const file = join(store.dir, 'backup.key');
    const exported = await admin.exportMasterKey({ file });
    t.deepEqual(exported, { dryRun: false, file, source: 'env' });
    t.is(readKey(file), store.masterKey);
    const [record] = await auditRecords(admin, 'master-key.export');
    t.like(JSON.parse(record!.details), { file, from: 'AKM_MASTER_KEY' });
    t.false(JSON.stringify(record).includes(store.masterKey));
    await refusal(t, () => admin.exportMasterKey({ file }), {
      instanceOf: ConflictError,
      exitCode: 4,
      code: 'file_exists',
    });
    t.is((await auditRecords(admin, 'master-key.export')).length, 1);
  },
);

perEngine(
  'a key file: a new key left beside it unused is ignored; one the store is already under is moved into place',
  async (t, engine) => {
    const { store, secrets } = await seeded(t, engine);
    const options = keyFile(store);
    const next = `${options.file}.next`;
    const { key, secret } = secrets[0]!;

    // Cut short before its commit: the store is still under the key in the file.
    writeFileSync(next, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600 });
    const before = await open(t, store, options);
    t.true((await before.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid);
    t.is(readKey(options.file), store.masterKey);
    const rotation = await before.rotateMasterKey({});
    t.is(rotation.newKey, options.file, 'a later rotation replaces what was left');
    const second = readKey(options.file);

    // Cut short after its commit: the file still holds the old key, the new one waits beside it.
    writeFileSync(next, `${second}\n`, { mode: 0o600 });
    writeFileSync(options.file, `${store.masterKey}\n`, { mode: 0o600 });
    const after = await open(t, store, options);
    t.true((await after.verifyKey({ accessKeyId: key.accessKeyId, secretKey: secret })).valid);
    t.is(readKey(options.file), second, 'the next run moved the new key into the file');
    t.false(existsSync(next));
  },
);

perEngine(
  'a rotation re-seals webhook signing secrets: deliveries after it are signed as before',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const options = keyFile(store);
    const admin = await open(t, store, options);
    const receiver = await WebhookReceiver.start();
    t.teardown(() => receiver.close());
    const hook = await admin.addWebhook({ url: receiver.url, events: ['*'] });
    receiver.secret = hook.secret;
    const rotation = await admin.rotateMasterKey({});
    t.true(rotation.secrets >= 1);
    const fresh = await open(t, store, options);
    t.like(await fresh.testWebhook(hook.id), { delivered: true });
    t.deepEqual(
      receiver.received.map((r) => r.problem),
      [null],
    );
  },
);
