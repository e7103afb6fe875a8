/**
 * Reproduction 5 of the authorization issue: a captured signed request replayed after a restart
 * of `akm serve`, or to a second `akm serve` on the same store, used to succeed (a replayed
 * rotate handed the replayer a fresh secret). Real server processes, real SigV4 requests.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { killHard } from '../helpers/children.js';
import { perEngine } from '../helpers/engines.js';
import { serveOn, spawnServe } from '../helpers/serveProcess.js';
import { rawRequest, signedHeaders } from '../helpers/server.js';

function captured(
  url: string,
  key: { accessKeyId: string; secretKey: string },
  method: string,
  path: string,
  body?: string,
) {
  const nonce = randomBytes(16).toString('base64url');
  const headers = signedHeaders(url, key, { method, path, body, headers: { 'x-akm-nonce': nonce } });
  return { method, path, headers, body };
}

const send = (url: string, request: { method: string; path: string; headers: Record<string, string>; body?: string }) =>
  rawRequest(url, request);

perEngine(
  'reproduction 5: a replayed request is refused after a restart and by a second server on the same store',
  async (t, engine) => {
    const first = await spawnServe([], {}, engine);
    t.teardown(first.stop);
    const second = await serveOn(first.store);
    t.teardown(() => killHard(second.child));

    // The victim creates a key and later rotates it; the attacker captures the rotate request.
    const created = captured(
      first.url,
      first.admin,
      'POST',
      '/v1/keys',
      JSON.stringify({
        name: 'victim',
        type: 'access',
        expiry: { kind: 'days', days: 30 },
        owner: null,
        groups: [],
        roles: [],
      }),
    );
    const victim = (await send(first.url, created)).json;
    t.truthy(victim.accessKeyId);
    const rotate = captured(first.url, first.admin, 'POST', `/v1/keys/${victim.accessKeyId}/rotate`, '{"graceMs":0}');
    const genuine = await send(first.url, rotate);
    t.is(genuine.status, 200);

    const replayedToSecond = await send(second.url, rotate);
    t.is(replayedToSecond.status, 401, 'the second server knows the token: it is in the store');
    t.like(replayedToSecond.json, { error: { code: 'replayed_request', exitCode: 5 } });
    t.falsy(replayedToSecond.json.secretKey);

    // Restart the first server: the token survives, in the store.
    await killHard(first.child);
    const restarted = await serveOn(first.store);
    t.teardown(() => killHard(restarted.child));
    for (const url of [restarted.url, second.url]) {
      const again = await send(url, rotate);
      t.is(again.status, 401, url);
      t.like(again.json, { error: { code: 'replayed_request' } });
    }
    t.is((await send(restarted.url, created)).status, 401, 'the create is not replayed either');

    // Reads signed with a nonce (the akm client signs one on every request) are seen once too.
    const read = captured(restarted.url, first.admin, 'GET', `/v1/keys/${victim.accessKeyId}`);
    t.is((await send(restarted.url, read)).status, 200);
    t.is((await send(second.url, read)).status, 401);
    // A plain SigV4 GET without a nonce (curl) stays usable within the skew window: reading is idempotent.
    const plain = {
      method: 'GET',
      path: '/v1/keys',
      headers: signedHeaders(second.url, first.admin, { path: '/v1/keys' }),
    };
    t.is((await send(second.url, plain)).status, 200);
    t.is((await send(restarted.url, plain)).status, 200);

    // What the store keeps is a hash per token, never the nonce or the signature.
    const raw = await first.store.raw();
    const tokens = await raw.all<{ token: Buffer }>('SELECT token FROM replay_tokens');
    await raw.close();
    t.true(tokens.length >= 3);
    t.true(tokens.every((r) => r.token.length === 32));
    const stored = Buffer.concat(tokens.map((r) => r.token)).toString('latin1');
    t.false(stored.includes(rotate.headers['x-akm-nonce']!));
    t.false(stored.includes(rotate.headers.Authorization!.split('Signature=')[1]!));
  },
);

test('the akm client signs a nonce on every request, reads included', async (t) => {
  const serve = await spawnServe();
  t.teardown(serve.stop);
  const { RemoteService } = await import('../../src/remote/service.js');
  const seen: Array<Record<string, string>> = [];
  const remote = new RemoteService({
    baseUrl: serve.url,
    credentials: { accessKeyId: serve.admin.accessKeyId, secretAccessKey: serve.admin.secretKey },
    fetch: (input, init) => {
      seen.push({ ...(init?.headers as Record<string, string>) });
      return fetch(input, init);
    },
  });
  await remote.whoami();
  await remote.listKeys({});
  await remote.addUser('nonce@acme.test', '');
  t.is(seen.length, 3);
  for (const headers of seen) {
    t.regex(headers['x-akm-nonce'] ?? '', /^[A-Za-z0-9_-]{22}$/);
    t.regex(headers.authorization ?? '', /SignedHeaders=[^,]*x-akm-nonce/);
  }
  t.is(new Set(seen.map((h) => h['x-akm-nonce'])).size, 3);
});
