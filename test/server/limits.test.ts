/**
 * What the server refuses before any work: oversized bodies, slow-loris connections, unknown
 * routes and methods, bad JSON and unknown fields, plain HTTP off loopback. And what it logs:
 * one JSON line per request, never a secret.
 */
import test from 'ava';
import { connect } from 'node:net';
import { startServer } from '../../src/server/server.js';
import { assertTransportAllowed, parseListen } from '../../src/server/listen.js';
import { until } from '../helpers/children.js';
import { rawRequest, serverFixture, signedHeaders } from '../helpers/server.js';

function signedPost(url: string, key: { accessKeyId: string; secretKey: string }, path: string, body: string) {
  return rawRequest(url, {
    method: 'POST',
    path,
    body,
    headers: signedHeaders(url, key, { method: 'POST', path, body, headers: { 'x-akm-nonce': `n-${Math.random()}` } }),
  });
}

test('bodies over the limit are refused with 413 before being read', async (t) => {
  const fx = await serverFixture({ bodyLimit: 1024 });
  t.teardown(fx.close);
  const big = JSON.stringify({ email: 'x@acme.test', name: 'n'.repeat(2000) });
  const reply = await signedPost(fx.url, fx.admin, '/v1/users', big);
  t.is(reply.status, 413);
  t.like(reply.json, { error: { code: 'body_too_large' } });
});

test('slow-loris: a connection that never finishes its headers is closed', async (t) => {
  const fx = await serverFixture({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
  t.teardown(fx.close);
  const { port } = new URL(fx.url);
  const started = Date.now();
  const closedAfter = await new Promise<number>((resolve, reject) => {
    const socket = connect(Number(port), '127.0.0.1', () => socket.write('GET /v1/keys HTTP/1.1\r\nHost: x\r\n'));
    // Dribble a header byte now and then, as a slow-loris client does.
    const drip = setInterval(() => socket.writable && socket.write('X-A: b\r\n'), 200);
    socket.on('data', () => {});
    socket.on('close', () => {
      clearInterval(drip);
      resolve(Date.now() - started);
    });
    socket.on('error', () => {});
    setTimeout(() => reject(new Error('still open after 10 s')), 10_000).unref();
  });
  t.true(closedAfter < 4000, `closed after ${closedAfter} ms`);
});

test('slow body: a request whose body never completes is closed', async (t) => {
  const fx = await serverFixture({ headersTimeoutMs: 1000, requestTimeoutMs: 2000 });
  t.teardown(fx.close);
  const { port } = new URL(fx.url);
  const started = Date.now();
  const closedAfter = await new Promise<number>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () =>
      socket.write('POST /v1/users HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n{'),
    );
    socket.on('data', () => {});
    socket.on('error', () => {});
    socket.on('close', () => resolve(Date.now() - started));
  });
  t.true(closedAfter < 5000, `closed after ${closedAfter} ms`);
});

test('routes, methods, JSON and fields are checked', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  t.like((await rawRequest(fx.url, { path: '/healthz' })).json, { status: 'ok' });
  const nowhere = await rawRequest(fx.url, {
    path: '/v2/nothing',
    headers: signedHeaders(fx.url, fx.admin, { path: '/v2/nothing' }),
  });
  t.is(nowhere.status, 404);
  const wrongMethod = await rawRequest(fx.url, {
    method: 'PUT',
    path: '/v1/users',
    body: '{}',
    headers: { 'content-type': 'application/json' },
  });
  t.is(wrongMethod.status, 405);
  t.is(wrongMethod.headers.allow, 'GET, POST');
  t.like((await signedPost(fx.url, fx.admin, '/v1/users', '{"email":')).json, {
    error: { code: 'invalid_json', exitCode: 2 },
  });
  t.like((await signedPost(fx.url, fx.admin, '/v1/users', '{"email":"a@acme.test","admin":true}')).json, {
    error: { code: 'invalid_body' },
  });
  t.like((await signedPost(fx.url, fx.admin, '/v1/users', '[1,2]')).json, { error: { code: 'invalid_body' } });
  t.like(
    (
      await signedPost(
        fx.url,
        fx.admin,
        '/v1/keys',
        '{"name":"x","type":"root","expiry":{"kind":"never"},"owner":null}',
      )
    ).json,
    { error: { code: 'invalid_body' } },
  );
  t.like(
    (
      await signedPost(
        fx.url,
        fx.admin,
        '/v1/keys',
        '{"name":"x","type":"access","expiry":{"kind":"days","days":"9"},"owner":null}',
      )
    ).json,
    { error: { code: 'invalid_body' } },
  );
  const badQuery = await rawRequest(fx.url, {
    path: '/v1/keys?status=gone',
    headers: signedHeaders(fx.url, fx.admin, { path: '/v1/keys?status=gone' }),
  });
  t.is(badQuery.status, 400);
  const unknownQuery = await rawRequest(fx.url, {
    path: '/v1/keys?drop=1',
    headers: signedHeaders(fx.url, fx.admin, { path: '/v1/keys?drop=1' }),
  });
  t.like(unknownQuery.json, { error: { code: 'invalid_query' } });
});

test('one JSON log line per request, and never a secret or a signature in it', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const remote = fx.remote(fx.admin);
  const key = await remote.createKey({
    name: 'logged',
    type: 'access',
    expiry: { kind: 'days', days: 1 },
    owner: null,
    groups: [],
    roles: [],
  });
  await remote.rotateKey(key.accessKeyId, 0);
  await remote.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey });
  const requests = fx.logs.filter((l) => l.event === 'request');
  t.is(requests.length, 3);
  t.like(requests[0], { method: 'POST', path: '/v1/keys', status: 201, key: fx.admin.accessKeyId, ip: '127.0.0.1' });
  const text = JSON.stringify(fx.logs);
  for (const secret of [fx.admin.secretKey, key.secretKey]) t.false(text.includes(secret));
  t.false(/akms_|Signature|AWS4-HMAC/.test(text));
});

test('plain HTTP is refused off loopback unless --insecure-http', async (t) => {
  t.notThrows(() => assertTransportAllowed(parseListen('127.0.0.1:0'), false, false));
  t.notThrows(() => assertTransportAllowed(parseListen('[::1]:8080'), false, false));
  t.notThrows(() => assertTransportAllowed(parseListen('localhost:80'), false, false));
  t.throws(() => assertTransportAllowed(parseListen('0.0.0.0:8080'), false, false), { code: 'insecure_listen' });
  t.throws(() => assertTransportAllowed(parseListen('10.1.2.3:8080'), false, false), { code: 'insecure_listen' });
  t.notThrows(() => assertTransportAllowed(parseListen('0.0.0.0:8080'), true, false));
  t.notThrows(() => assertTransportAllowed(parseListen('0.0.0.0:8080'), false, true));
  // startServer applies the rule before binding anything.
  await t.throwsAsync(
    startServer({
      store: '/nonexistent',
      masterKey: {
        env: {},
        keychain: () => {
          throw new Error('unused');
        },
      },
      listen: parseListen('0.0.0.0:0'),
      log: () => {},
    }),
    { code: 'insecure_listen' },
  );
  t.is(parseListen('7860').host, '127.0.0.1');
  t.throws(() => parseListen('nope'), { code: 'usage' });
  t.throws(() => parseListen('1.2.3.4:99999'), { code: 'usage' });
});

test('a truncated request (client gone mid-body) is settled, and the server keeps serving', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const { port } = new URL(fx.url);
  await new Promise<void>((resolve) => {
    const socket = connect(Number(port), '127.0.0.1', () => {
      // "100 Continue" comes back once the server has parsed the headers: only then leave mid-body.
      socket.write(
        'POST /v1/verify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 500\r\n' +
          'Expect: 100-continue\r\n\r\n',
      );
      socket.once('data', () => {
        socket.write('{"keyStr');
        socket.destroy();
      });
    });
    socket.on('error', () => {});
    socket.on('close', () => resolve());
  });
  t.like(await until(() => fx.logs.find((l) => l.path === '/v1/verify'), 'the log line of the truncated request'), {
    status: 400,
  });
  t.is((await rawRequest(fx.url, { path: '/healthz' })).status, 200);
});

test('POST /v1/webhooks refuses a port HTTP clients will not connect to, and adds nothing', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  for (const port of [25, 6000]) {
    const body = JSON.stringify({ url: `https://hooks.acme.test:${port}/akm` });
    const reply = await signedPost(fx.url, fx.admin, '/v1/webhooks', body);
    t.is(reply.status, 400, reply.body);
    t.like(reply.json, { error: { code: 'invalid_webhook_url' } });
    t.regex(reply.json.error.message, new RegExp(`port ${port} is one that HTTP clients refuse`));
  }
  t.deepEqual(await fx.remote(fx.admin).listWebhooks(), []);
  const ok = await signedPost(
    fx.url,
    fx.admin,
    '/v1/webhooks',
    JSON.stringify({ url: 'https://hooks.acme.test:8443/' }),
  );
  t.is(ok.status, 201, ok.body);
});
