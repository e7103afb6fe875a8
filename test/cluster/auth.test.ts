/**
 * Signed requests across replicas: replay tokens and failed sign-in counts live in the store,
 * so three `akm serve` processes on one PostgreSQL store act as one server. A request accepted
 * by one replica is a replay to the others; failures spread over the replicas add up to one limit.
 */
import { randomBytes } from 'node:crypto';
import { generateSecretKey } from '../../src/core/credentials.js';
import { until } from '../helpers/children.js';
import { startCluster } from '../helpers/cluster.js';
import { postgresOnly } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { rawRequest, signedHeaders } from '../helpers/server.js';

type Key = { accessKeyId: string; secretKey: string };

/** A request as an attacker captures it: every header and byte, the akm client's nonce included. */
function captured(url: string, key: Key, method: string, path: string, body?: string) {
  const nonce = randomBytes(16).toString('base64url');
  return {
    method,
    path,
    body,
    headers: signedHeaders(url, key, { method, path, body, headers: { 'x-akm-nonce': nonce } }),
  };
}

postgresOnly.serial('a request one replica accepted is refused as a replay by the others', async (t) => {
  const cluster = await startCluster();
  t.teardown(cluster.stop);
  const [a, b, c] = cluster.replicas.map((r) => r.url) as [string, string, string];
  const victim = await cluster.remote(0).createKey(keyInput({ name: 'victim' }));

  const rotate = captured(a, cluster.admin, 'POST', `/v1/keys/${victim.accessKeyId}/rotate`, '{"graceMs":0}');
  const genuine = await rawRequest(a, rotate);
  t.is(genuine.status, 200);
  for (const url of [b, c, a]) {
    const replayed = await rawRequest(url, rotate);
    t.is(replayed.status, 401, url);
    t.like(replayed.json, { error: { code: 'replayed_request', exitCode: 5 } });
    t.falsy(replayed.json.secretKey, 'no secret for the replayer');
  }
  // The same race as an attacker would run it: one captured request sent to all three at once.
  const create = captured(b, cluster.admin, 'POST', '/v1/keys', JSON.stringify(keyInput({ name: 'raced' })));
  const raced = await Promise.all([a, b, c].map((url) => rawRequest(url, create)));
  t.deepEqual(
    raced.map((r) => r.status).sort(),
    [201, 401, 401],
    'one replica took it, the others refused it as a replay',
  );
  t.is((await cluster.remote(2).listKeys({})).items.filter((k) => k.name === 'raced').length, 1);
});

postgresOnly.serial('failed sign-ins spread over the replicas add up to one lock-out', async (t) => {
  const cluster = await startCluster();
  t.teardown(cluster.stop);
  const urls = cluster.replicas.map((r) => r.url);
  const reader = await cluster.remote(0).createKey(keyInput({ name: 'reader', roles: ['ReadOnly'] }));
  const wrong = { accessKeyId: reader.accessKeyId, secretKey: generateSecretKey() };
  const get = (url: string, key: Key, from: string) =>
    rawRequest(url, { path: '/v1/keys', localAddress: from, headers: signedHeaders(url, key, { path: '/v1/keys' }) });
  const raw = await cluster.store.raw();
  t.teardown(() => raw.close());
  const stored = async () =>
    Number(
      (await raw.get<{ n: number }>("SELECT coalesce(sum(count), 0) AS n FROM auth_failures WHERE scope LIKE 'key %'"))!
        .n,
    );

  // Nine wrong secrets for one key from one address, four, three and two per replica (each
  // replica writes its count to the store within a second); the limit is ten.
  const from = '127.0.0.9';
  for (const [i, share] of [4, 3, 2].entries()) {
    for (let n = 0; n < share; n++) t.is((await get(urls[i]!, wrong, from)).status, 401);
    const total = [4, 3, 2].slice(0, i + 1).reduce((x, y) => x + y);
    await until(async () => (await stored()) === total, `${total} failures in the store`);
  }
  t.is((await get(urls[2]!, wrong, from)).status, 429, 'the tenth, on the third replica, reaches the limit');
  // Every replica now refuses that key from that address, even with its valid secret…
  for (const url of urls)
    await until(async () => (await get(url, reader, from)).status === 429, `${url} refuses the key`);
  // …and serves it from another address, and other keys from that one.
  for (const url of urls) {
    t.is((await get(url, reader, '127.0.0.10')).status, 200);
    t.is((await get(url, cluster.admin, from)).status, 200);
  }
});
