/**
 * Reproduction 6 of the authorization issue: failed-auth throttling was per client address and
 * checked before authentication, so 21 unsigned requests from one address locked out every valid
 * administrator there (behind a TLS-terminating proxy: everyone), and no proxy could be trusted.
 * Now failures count per address and per (key, address); a valid signature from a key that is
 * not itself under attack is always served; counts are shared through the store, in batches.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { generateSecretKey } from '../../src/core/credentials.js';
import { clientAddress, parseCidr, TrustedProxies } from '../../src/server/clientAddress.js';
import { startServer } from '../../src/server/server.js';
import { sleep } from '../helpers/children.js';
import { perEngine } from '../helpers/engines.js';
import { localKey, rawRequest, serverFixture, signedHeaders } from '../helpers/server.js';

type Key = { accessKeyId: string; secretKey: string };

const unsigned = (url: string, from: string, headers: Record<string, string> = {}) =>
  rawRequest(url, { path: '/v1/keys', localAddress: from, headers });
const signedGet = (url: string, key: Key, from: string) =>
  rawRequest(url, { path: '/v1/keys', localAddress: from, headers: signedHeaders(url, key, { path: '/v1/keys' }) });

async function statuses(n: number, request: () => Promise<{ status: number }>): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i++) out.push((await request()).status);
  return out;
}

/** Poll (the servers write their counts once a second) until `check` holds, or fail after 10 s. */
async function eventually(check: () => Promise<boolean>): Promise<boolean> {
  for (const deadline = Date.now() + 10_000; Date.now() < deadline; await sleep(100)) if (await check()) return true;
  return false;
}

test('reproduction 6: a flood from one address does not lock out a valid key there', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const reader = await localKey(fx, 'reader');

  const flood = await statuses(25, () => unsigned(fx.url, '127.0.0.1'));
  t.deepEqual(flood, [...Array<number>(19).fill(401), ...Array<number>(6).fill(429)]);
  t.is((await signedGet(fx.url, fx.admin, '127.0.0.1')).status, 200, 'the administrator is still served');
  const wrong = { accessKeyId: reader.accessKeyId, secretKey: generateSecretKey() };
  t.is((await signedGet(fx.url, wrong, '127.0.0.1')).status, 429, 'a failing request from there: 429, not 401');
  t.is((await signedGet(fx.url, reader, '127.0.0.1')).status, 200, 'and the key it claimed still works');

  // A key attacked from one address is refused from there only, even with its valid secret.
  const attack = await statuses(12, () => signedGet(fx.url, wrong, '127.0.0.2'));
  t.deepEqual(attack, [...Array<number>(9).fill(401), ...Array<number>(3).fill(429)]);
  t.is((await signedGet(fx.url, reader, '127.0.0.2')).status, 429);
  t.is((await signedGet(fx.url, reader, '127.0.0.3')).status, 200, 'the same key from another address');
  t.is((await signedGet(fx.url, fx.admin, '127.0.0.2')).status, 200, 'another key from that address');
});

perEngine('the counts are shared by every server on the store, written in batches', async (t, engine) => {
  const fx = await serverFixture({}, engine);
  t.teardown(fx.close);
  const other = await startServer({
    store: fx.store.location,
    masterKey: fx.store.masterKeyOptions,
    listen: { host: '127.0.0.1', port: 0 },
    log: () => {},
  });
  t.teardown(() => other.close());
  const reader = await localKey(fx, 'reader');
  const wrong = { accessKeyId: reader.accessKeyId, secretKey: generateSecretKey() };

  // Five failures on the first server, written to the store within a second…
  t.deepEqual(await statuses(5, () => signedGet(fx.url, wrong, '127.0.0.4')), Array<number>(5).fill(401));
  const outside = await fx.store.raw();
  t.teardown(() => outside.close());
  const stored = async () =>
    Number(
      (await outside.get<{ n: number }>(
        "SELECT coalesce(sum(count), 0) AS n FROM auth_failures WHERE scope LIKE 'key %'",
      ))!.n,
    );
  t.true(await eventually(async () => (await stored()) === 5), 'the first server wrote its count');
  // …then five on the second: the tenth failure of that key from that address is the limit on both.
  t.deepEqual(await statuses(5, () => signedGet(other.url, wrong, '127.0.0.4')), [401, 401, 401, 401, 429]);
  t.is((await signedGet(other.url, reader, '127.0.0.4')).status, 429);
  t.true(
    await eventually(async () => (await signedGet(fx.url, reader, '127.0.0.4')).status === 429),
    'the first server learns the second one’s count',
  );
  t.is((await signedGet(fx.url, reader, '127.0.0.5')).status, 200);

  // A flood of unsigned requests is counted in memory: at most about one write a second.
  // (SQLite's data_version counts the commits of other connections; PostgreSQL has no such count per store.)
  if (engine !== 'sqlite') return;
  const file = new Database(fx.store.path, { readonly: true });
  t.teardown(() => file.close());
  const version = () => file.pragma('data_version', { simple: true }) as number;
  const before = version();
  const started = Date.now();
  await Promise.all(Array.from({ length: 10 }, () => statuses(30, () => unsigned(fx.url, '127.0.0.6'))));
  const seconds = Math.ceil((Date.now() - started) / 1000);
  const commits = version() - before;
  t.true(commits <= seconds + 2, `300 refused requests in ~${seconds} s: ${commits} commits`);
  t.log(`300 unsigned requests in ~${seconds} s cost ${commits} commits`);
});

test('--trusted-proxy: the client is the right-most address the trusted proxies did not add', async (t) => {
  const fx = await serverFixture({ trustedProxies: ['127.0.0.1/32', '::1'] });
  t.teardown(fx.close);
  const via = (client: string) => ({ 'x-forwarded-for': client });
  const flood = await statuses(20, () => unsigned(fx.url, '127.0.0.1', via('198.51.100.7')));
  t.is(flood[19], 429, 'counted against 198.51.100.7');
  t.is((await unsigned(fx.url, '127.0.0.1', via('203.0.113.9'))).status, 401, 'another client behind the proxy');
  // What the client wrote to the left of what our proxy appended proves nothing.
  t.is((await unsigned(fx.url, '127.0.0.1', via('203.0.113.9, 198.51.100.7'))).status, 429);
  t.is((await signedGet(fx.url, fx.admin, '127.0.0.1')).status, 200);
  // From a peer that is not a trusted proxy the header is ignored: the peer is the client.
  t.is((await unsigned(fx.url, '127.0.0.2', via('198.51.100.7'))).status, 401);
  const ips = fx.logs.filter((l) => l.event === 'request').map((l) => l.ip);
  t.deepEqual([...new Set(ips)].sort(), ['127.0.0.1', '127.0.0.2', '198.51.100.7', '203.0.113.9']);
  t.is(ips.filter((ip) => ip === '127.0.0.1').length, 1, 'only the request that came without the header');
});

test('without --trusted-proxy, X-Forwarded-For is ignored: a client cannot pose as another address', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const flood = await statuses(20, () =>
    unsigned(fx.url, '127.0.0.1', { 'x-forwarded-for': `192.0.2.${Math.floor(Math.random() * 250)}` }),
  );
  t.is(flood[19], 429);
  t.true(fx.logs.filter((l) => l.event === 'request').every((l) => l.ip === '127.0.0.1'));
});

test('client addresses: CIDR ranges in IPv4 and IPv6, right-most untrusted hop, malformed hops', (t) => {
  const proxies = new TrustedProxies(['10.0.0.0/8', '2001:db8::/32', '192.0.2.1']);
  t.is(clientAddress('10.1.2.3', '203.0.113.5', proxies), '203.0.113.5');
  t.is(clientAddress('::ffff:10.1.2.3', '203.0.113.5', proxies), '203.0.113.5', 'IPv4-mapped peer');
  t.is(clientAddress('10.1.2.3', '198.51.100.1, 203.0.113.5, 10.9.9.9', proxies), '203.0.113.5');
  t.is(clientAddress('2001:db8::7', '2001:db8::8, [2001:db9::1]:4711', proxies), '2001:db9::1');
  t.is(clientAddress('10.1.2.3', ['203.0.113.5', '192.0.2.1'], proxies), '203.0.113.5', 'repeated headers');
  t.is(clientAddress('10.1.2.3', '203.0.113.5:8080', proxies), '203.0.113.5');
  t.is(clientAddress('10.1.2.3', 'unknown, 10.2.2.2', proxies), '10.2.2.2', 'a malformed hop ends the trusted part');
  t.is(clientAddress('10.1.2.3', '10.2.2.2, 10.3.3.3', proxies), '10.2.2.2', 'all trusted: the left-most');
  t.is(clientAddress('198.51.100.9', '203.0.113.5', proxies), '198.51.100.9', 'untrusted peer');
  t.is(clientAddress('10.1.2.3', undefined, proxies), '10.1.2.3');
  t.is(clientAddress('10.1.2.3', '203.0.113.5', null), '10.1.2.3', 'no trusted proxies');
  t.deepEqual(parseCidr('::1'), { address: '::1', prefix: 128, family: 'ipv6' });
  t.deepEqual(parseCidr(' 172.16.0.0/12 '), { address: '172.16.0.0', prefix: 12, family: 'ipv4' });
  for (const bad of ['10.0.0.0/33', '2001:db8::/129', 'proxy.local', '10.0.0.0/8/8', '10.0.0/8', '', '1.2.3.4/x'])
    t.throws(() => parseCidr(bad), { code: 'usage' }, bad);
});
