/**
 * PostgreSQL goes away under three replicas and comes back: while it is down they answer 503
 * (`/readyz` not ready, signed calls exit-6 errors, `/v1/verify` "not valid"; never "valid"
 * from a cache older than a second), and they recover by themselves when it returns. The test
 * runs a PostgreSQL cluster of its own, so stopping it disturbs no other test.
 */
import { until } from '../helpers/children.js';
import { ownPostgres, scrape, startCluster } from '../helpers/cluster.js';
import { postgresOnly } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { postVerify, rawRequest, signedHeaders } from '../helpers/server.js';
import { tempStore } from '../helpers/store.js';
import { REVALIDATE_MS } from '../../src/store/postgres/store.js';

postgresOnly.serial(
  'a PostgreSQL restart: replicas answer 503 while it is down and recover by themselves',
  async (t) => {
    const own = await ownPostgres();
    t.teardown(own.remove);
    const store = await tempStore('postgres', 'akm-restart-', await own.database('akm_restart'));
    const cluster = await startCluster({ store });
    t.teardown(cluster.stop);
    const urls = cluster.replicas.map((r) => r.url);
    const key = await cluster.remote(0).createKey(keyInput({ name: 'svc', roles: ['ReadOnly'] }));
    const verify = (url: string) => postVerify(url, { keyString: key.keyString });
    const signedList = (url: string) =>
      rawRequest(url, { path: '/v1/keys', headers: signedHeaders(url, cluster.admin, { path: '/v1/keys' }) });
    for (const url of urls) {
      t.is((await verify(url)).status, 200);
      t.is((await rawRequest(url, { path: '/readyz' })).status, 200);
    }

    await own.halt();
    const haltedAt = performance.now();
    // Each replica soon refuses: verify is "not valid" (503 with valid:false), never valid from a
    // cache entry older than REVALIDATE_MS, and stays so while the store is down.
    for (const url of urls) {
      await until(async () => {
        const sent = performance.now();
        const reply = await verify(url);
        if (reply.status === 200)
          t.true(sent - haltedAt < REVALIDATE_MS, 'a valid answer only from a fresh cache entry');
        return reply.status === 503;
      }, `${url} refusing`);
      for (let i = 0; i < 5; i++) {
        const reply = await verify(url);
        t.is(reply.status, 503);
        t.like(reply.json, { valid: false, error: { code: 'verify_unavailable' } });
      }
      const ready = await rawRequest(url, { path: '/readyz' });
      t.is(ready.status, 503);
      t.like(ready.json, { status: 'not_ready', reason: 'store_unreachable' });
      t.false(ready.body.includes('127.0.0.1'), 'the store is not named to an unauthenticated caller');
      const listed = await signedList(url);
      t.is(listed.status, 503);
      t.is(listed.json.error.exitCode, 6);
      t.is((await rawRequest(url, { path: '/healthz' })).status, 200, 'the process itself is up');
      t.is((await scrape(url))?.get('akm_store_up'), 0);
    }

    await own.resume();
    for (const url of urls) {
      await until(async () => (await rawRequest(url, { path: '/readyz' })).status === 200, `${url} ready`, 30_000);
      await until(async () => (await verify(url)).status === 200, `${url} verifying`);
      t.is((await signedList(url)).status, 200);
      await until(async () => (await scrape(url))?.get('akm_store_listening') === 1, `${url} listening again`);
    }
    // Writes go through, and the others hear of them.
    await cluster.remote(0).setKeyStatus(key.accessKeyId, 'inactive');
    for (const url of urls.slice(1))
      await until(
        async () => (await verify(url)).status === 401,
        `${url} learning of the change`,
        REVALIDATE_MS + 2000,
      );
  },
);
