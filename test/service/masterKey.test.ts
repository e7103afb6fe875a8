/**
 * The wrong master key, on both engines: one clear exit-6 error at first use, never garbage,
 * and the store left as it was. Edited or missing check values are caught the same way.
 */
import { randomBytes } from 'node:crypto';
import { UnavailableError } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import { perEngine } from '../helpers/engines.js';
import { keyInput, refusal } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

const withKey = (key: string) => ({ env: { AKM_MASTER_KEY: key }, keychain: () => ({}) as never });

perEngine(
  'a wrong master key fails with exit 6 at first use, never garbage, and changes nothing',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const right = await store.open();
    const key = await right.createKey(keyInput({ name: 'k' }));
    await right.close();
    const raw = await store.raw();
    t.teardown(() => raw.close());
    const before = await raw.dump();
    const wrong = await LocalService.open({
      store: store.location,
      masterKey: withKey(randomBytes(32).toString('base64')),
      source: 'test',
    });
    t.teardown(() => wrong.close());
    const expected = {
      instanceOf: UnavailableError,
      exitCode: 6,
      code: 'wrong_master_key',
      message: /master key does not match this store/,
    };
    await refusal(t, () => wrong.createKey(keyInput({ name: 'other' })), expected);
    await refusal(t, () => wrong.copyKey(key.accessKeyId), expected);
    await refusal(t, () => wrong.rotateKey(key.accessKeyId, 0), expected);
    await refusal(t, () => wrong.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey }), expected);
    t.deepEqual(await raw.dump(), before);

    const malformed = await LocalService.open({ store: store.location, masterKey: withKey('not-base64!') });
    t.teardown(() => malformed.close());
    await refusal(t, () => malformed.copyKey(key.accessKeyId), {
      instanceOf: UnavailableError,
      exitCode: 6,
      code: 'bad_master_key',
    });
  },
);

perEngine('an edited master-key check value or store id is caught as a wrong key (exit 6)', async (t, engine) => {
  for (const meta of ['master_key_check', 'store_id']) {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    const key = await service.createKey(keyInput());
    await service.close();
    const raw = await store.raw();
    await raw.run("UPDATE meta SET value = value || 'x' WHERE key = @meta", { meta });
    await raw.close();
    const again = await store.open();
    await refusal(t, () => again.copyKey(key.accessKeyId), {
      instanceOf: UnavailableError,
      exitCode: 6,
      code: 'wrong_master_key',
    });
    await again.close();
  }
});

perEngine(
  'a store whose master-key check value was removed refuses to run with an unchecked key (exit 6)',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    const key = await service.createKey(keyInput());
    await service.close();
    const raw = await store.raw();
    t.teardown(() => raw.close());
    await raw.run("DELETE FROM meta WHERE key = 'master_key_check'");
    const before = await raw.dump();
    const wrong = await LocalService.open({
      store: store.location,
      masterKey: withKey(randomBytes(32).toString('base64')),
      source: 'test',
    });
    t.teardown(() => wrong.close());
    // Without the check a wrong key would seal new secrets under a key nobody has.
    await refusal(t, () => wrong.createKey(keyInput({ name: 'sealed-with-the-wrong-key' })), {
      instanceOf: UnavailableError,
      exitCode: 6,
    });
    await refusal(t, () => wrong.copyKey(key.accessKeyId), { instanceOf: UnavailableError, exitCode: 6 });
    t.deepEqual(await raw.dump(), before);
  },
);

perEngine('a store with its meta rows gone is reported as uninitialised (exit 6)', async (t, engine) => {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const service = await store.open();
  const key = await service.createKey(keyInput());
  await service.close();
  const raw = await store.raw();
  await raw.run('DELETE FROM meta');
  await raw.close();
  const again = await store.open();
  t.teardown(() => again.close());
  await refusal(t, () => again.copyKey(key.accessKeyId), {
    instanceOf: UnavailableError,
    exitCode: 6,
    code: 'store_uninitialised',
  });
});
