/**
 * A running `akm serve` (real HTTP on 127.0.0.1, real SigV4) whose store has its master key
 * rotated by another process, as an administrator beside it would: the server, still holding the
 * old key, fails closed — no signed request is served, `/v1/verify` finds no valid key, nothing in
 * the store changes — and a server started with the old key is refused. Restarted with the new
 * key, it serves the same keys again.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { RemoteService } from '../../src/remote/service.js';
import { LocalService } from '../../src/service/local/service.js';
import { startServer } from '../../src/server/server.js';
import { REVALIDATE_MS } from '../../src/store/postgres/store.js';
import { perEngine } from '../helpers/engines.js';
import { localKey, postVerify, serverFixture } from '../helpers/server.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

perEngine(
  'a server holding the old master key fails closed after a rotation, and serves again with the new one',
  async (t, engine) => {
    const fx = await serverFixture({}, engine);
    t.teardown(() => fx.close());
    const reader = await localKey(fx, 'reader');
    const admin = fx.remote(fx.admin);
    t.is((await admin.listKeys({})).items.length, 2);
    t.is((await postVerify(fx.url, { keyString: reader.keyString })).status, 200);

    const newKeyFile = join(fx.store.dir, `new-${randomBytes(4).toString('hex')}.key`);
    const local = await LocalService.open({
      store: fx.store.location,
      masterKey: fx.store.masterKeyOptions,
      source: 'test',
    });
    await local.rotateMasterKey({ newKeyFile });
    await local.close();
    // The verification cache of a PostgreSQL server re-reads a key at most this long after a change.
    if (engine === 'postgres') await sleep(REVALIDATE_MS + 200);

    const raw = await fx.store.raw();
    t.teardown(() => raw.close());
    const before = await raw.dump();
    const listing = await admin.listKeys({}).then(
      () => 'served',
      (error: { exitCode?: number }) => error.exitCode,
    );
    t.not(listing, 'served', 'a signed request is not served with the old key');
    const creating = await admin
      .createKey({
        name: 'under-the-old-key',
        type: 'access',
        expiry: { kind: 'days', days: 5 },
        owner: null,
        groups: [],
        roles: ['ReadOnly'],
      })
      .then(
        () => 'created',
        (error: { exitCode?: number }) => error.exitCode,
      );
    t.not(creating, 'created');
    const verified = await postVerify(fx.url, { keyString: reader.keyString });
    t.is(verified.status, 401, 'the reader key is not valid to a server with the old key');
    t.deepEqual(await raw.dump(), before, 'the stale server changed nothing');

    const stale = startServer({
      store: fx.store.location,
      masterKey: fx.store.masterKeyOptions,
      listen: { host: '127.0.0.1', port: 0 },
      log: () => {},
    });
    await t.throwsAsync(stale, { message: /master key does not match this store/ });

    const fresh = await startServer({
      store: fx.store.location,
      masterKey: {
        env: { AKM_MASTER_KEY: readFileSync(newKeyFile, 'utf8').trim() },
        keychain: fx.store.masterKeyOptions.keychain,
      },
      listen: { host: '127.0.0.1', port: 0 },
      log: () => {},
    });
    t.teardown(() => fresh.close());
    t.is((await postVerify(fresh.url, { keyString: reader.keyString })).status, 200);
    const again = new RemoteService({
      baseUrl: fresh.url,
      credentials: { accessKeyId: fx.admin.accessKeyId, secretAccessKey: fx.admin.secretKey },
    });
    t.is((await again.listKeys({})).items.length, 2, 'the same keys, signed in with the same secret');
    t.log(`with the old key: list exit ${listing}, create exit ${creating}, verify ${verified.status}`);
  },
);
