/**
 * What operators and their tools ask a server, unsigned: /healthz (the process is up), /readyz
 * (the store answers, its schema is current, the server is not shutting down), /metrics
 * (Prometheus text: requests by route and status, verify results, latencies, outbox depth, cache
 * age, job leadership), on the main listener or on --metrics-listen's address. Every answer
 * carries a request id, which its log line repeats.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { generateSecretKey } from '../../src/core/credentials.js';
import type { LogLine } from '../../src/server/log.js';
import { startServer } from '../../src/server/server.js';
import { scrape } from '../helpers/cluster.js';
import { perEngine } from '../helpers/engines.js';
import { auditRecords, keyInput } from '../helpers/service.js';
import { localKey, postVerify, rawRequest, serverFixture, signedHeaders } from '../helpers/server.js';

const requestLine = (logs: LogLine[], requestId: string) =>
  logs.find((l) => l.event === 'request' && l.requestId === requestId);

test('every answer carries a request id: a sane one sent is kept, anything else replaced; the log repeats it', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const asked = await rawRequest(fx.url, { path: '/healthz', headers: { 'x-request-id': 'lb-7f3a.42:z' } });
  t.is(asked.headers['x-request-id'], 'lb-7f3a.42:z');
  const made = await rawRequest(fx.url, { path: '/v1/keys' });
  const id = made.headers['x-request-id'] as string;
  t.regex(id, /^[0-9a-f]{12}-[0-9a-z]+$/);
  const next = (await rawRequest(fx.url, { path: '/healthz' })).headers['x-request-id'];
  t.not(next, id, 'a new one per request');
  // Too long, with spaces or control characters, or shaped like a secret: replaced, never logged.
  const secret = generateSecretKey();
  for (const sent of ['x'.repeat(129), 'a b', 'a\tb', secret, `id-${secret}`]) {
    const reply = await rawRequest(fx.url, { path: '/healthz', headers: { 'x-request-id': sent } });
    t.not(reply.headers['x-request-id'], sent);
    t.regex(reply.headers['x-request-id'] as string, /^[0-9a-f]{12}-/);
  }
  await new Promise((resolve) => setImmediate(resolve));
  t.like(requestLine(fx.logs, 'lb-7f3a.42:z'), { path: '/healthz', status: 200 });
  t.like(requestLine(fx.logs, id), { path: '/v1/keys', status: 401 });
  t.false(JSON.stringify(fx.logs).includes(secret.slice(5)), 'no secret in the log');
});

perEngine('/healthz, /readyz and /metrics answer without a signature', async (t, engine) => {
  const fx = await serverFixture({}, engine);
  t.teardown(fx.close);
  t.like((await rawRequest(fx.url, { path: '/healthz' })).json, { status: 'ok' });
  const ready = await rawRequest(fx.url, { path: '/readyz' });
  t.is(ready.status, 200);
  t.deepEqual(ready.json, { status: 'ready' });

  const reader = await localKey(fx, 'reader');
  const signed = (path: string) => rawRequest(fx.url, { path, headers: signedHeaders(fx.url, fx.admin, { path }) });
  t.is((await signed('/v1/keys')).status, 200);
  t.is((await signed(`/v1/keys/${reader.accessKeyId}`)).status, 200);
  t.is((await signed('/v1/keys/AKMAAAAAAAAAAAAAAAAA')).status, 404);
  t.is((await postVerify(fx.url, { keyString: reader.keyString })).status, 200);
  t.is((await postVerify(fx.url, { accessKeyId: reader.accessKeyId, secretKey: generateSecretKey() })).status, 401);
  t.is((await postVerify(fx.url, { nonsense: true })).status, 400);
  t.is((await rawRequest(fx.url, { path: '/no/such/thing' })).status, 404);

  const reply = await rawRequest(fx.url, { path: '/metrics' });
  t.is(reply.status, 200);
  t.regex(reply.headers['content-type'] as string, /^text\/plain; version=0\.0\.4/);
  const metrics = (await scrape(fx.url))!;
  // Routes by their pattern, never by a key id: the number of series stays fixed.
  t.is(metrics.get('akm_http_requests_total{route="GET /v1/keys",status="200"}'), 1);
  t.is(metrics.get('akm_http_requests_total{route="GET /v1/keys/:ref",status="200"}'), 1);
  t.is(metrics.get('akm_http_requests_total{route="GET /v1/keys/:ref",status="404"}'), 1);
  t.is(metrics.get('akm_http_requests_total{route="unmatched",status="404"}'), 1);
  t.false(reply.body.includes(reader.accessKeyId));
  t.is(metrics.get('akm_verify_results_total{result="valid"}'), 1);
  t.is(metrics.get('akm_verify_results_total{result="invalid"}'), 1);
  t.is(metrics.get('akm_verify_results_total{result="malformed"}'), 1);
  t.is(metrics.get('akm_http_request_duration_seconds_count{route="POST /v1/verify"}'), 3);
  t.is(metrics.get('akm_http_request_duration_seconds_bucket{route="POST /v1/verify",le="+Inf"}'), 3);
  t.is(metrics.get('akm_verify_cache_entries'), 1, 'one key asked about');
  t.true(metrics.get('akm_verify_cache_oldest_entry_seconds')! >= 0);
  t.is(metrics.get('akm_store_up'), 1);
  t.is(metrics.get('akm_job_leader'), 1);
  t.is(metrics.has('akm_store_listening'), engine === 'postgres', 'a LISTEN connection on PostgreSQL only');
  t.true(metrics.has('process_cpu_seconds_total'), "prom-client's process metrics");
});

perEngine('/metrics counts what waits in the outbox, by kind', async (t, engine) => {
  const fx = await serverFixture({ mail: null }, engine);
  t.teardown(fx.close);
  const local = await fx.store.open();
  // The mail server is down: the expiry mail stays in the outbox, failed, waiting for a retry.
  const failing = new (await import('../../src/service/local/service.js')).LocalService(local.ctx, false, {
    url: 'smtp://127.0.0.1:1',
    from: 'akm@acme.test',
  });
  await local.createKey(keyInput({ name: 'soon', expiry: { kind: 'days', days: 1 } }));
  const canary = await local.createKey(keyInput({ name: 'backup-admin', canary: true }));
  await failing.notifyExpiring({ withinDays: 2 });
  await local.close();
  // Whoever tries a canary learns nothing, /metrics included: its alert mail is not counted there.
  const tried = await fetch(`${fx.url}/v1/verify`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ keyString: canary.keyString }),
  });
  t.is(tried.status, 401);
  const reader = await fx.store.open();
  t.teardown(() => reader.close());
  for (let i = 0; i < 50 && (await auditRecords(reader, 'key.canary_tripped')).length === 0; i++)
    await new Promise((resolve) => setTimeout(resolve, 100));
  t.is((await auditRecords(reader, 'key.canary_tripped')).length, 1, 'the canary was tripped');
  const metrics = (await scrape(fx.url))!;
  t.is(metrics.get('akm_outbox_depth{kind="key.expiring"}'), 1);
  t.deepEqual(
    [...metrics.keys()].filter((name) => name.includes('canary')),
    [],
  );
});

test('/readyz: 503 naming only the reason while the store is unusable', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  // A backup of an older version put back under the running server.
  const db = new Database(fx.store.path);
  const version = db.pragma('user_version', { simple: true }) as number;
  db.pragma(`user_version = ${version - 1}`);
  const outdated = await rawRequest(fx.url, { path: '/readyz' });
  t.is(outdated.status, 503);
  t.deepEqual(outdated.json, { status: 'not_ready', reason: 'store_outdated' });
  t.false(outdated.body.includes(fx.store.path));
  db.pragma(`user_version = ${version}`);
  db.close();
  t.is((await rawRequest(fx.url, { path: '/readyz' })).status, 200);
  await fx.server.backend.store.close();
  const closed = await rawRequest(fx.url, { path: '/readyz' });
  t.is(closed.status, 503);
  t.is((await rawRequest(fx.url, { path: '/healthz' })).status, 200, 'the process itself is fine');
  t.is((await scrape(fx.url))!.get('akm_store_up'), 0);
});

test('--metrics-listen moves /metrics to an address of its own', async (t) => {
  const fx = await serverFixture({ metricsListen: { host: '127.0.0.1', port: 0 } });
  t.teardown(fx.close);
  const metricsUrl = fx.server.metricsUrl!;
  t.truthy(metricsUrl);
  t.is((await rawRequest(fx.url, { path: '/metrics' })).status, 404, 'not on the main listener');
  t.is((await rawRequest(fx.url, { path: '/healthz' })).status, 200);
  t.is((await rawRequest(metricsUrl, { path: '/metrics' })).status, 200);
  t.is((await rawRequest(metricsUrl, { path: '/v1/keys' })).status, 404, 'nothing else there');
  t.like(
    fx.logs.find((l) => l.event === 'listening'),
    { metrics: `${metricsUrl}/metrics` },
  );
  // A taken port is a usage error naming the flag.
  const port = Number(new URL(metricsUrl).port);
  const error = await t.throwsAsync(
    startServer({
      store: fx.store.location,
      masterKey: fx.store.masterKeyOptions,
      listen: { host: '127.0.0.1', port: 0 },
      metricsListen: { host: '127.0.0.1', port },
      log: () => {},
    }),
  );
  t.regex(error.message, /^--metrics-listen: cannot listen on 127\.0\.0\.1:\d+ \(EADDRINUSE\)/);
});
