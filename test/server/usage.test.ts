/**
 * Who uses a key, through a real `akm serve` on 127.0.0.1: sources recorded under 8 concurrent
 * verifiers, a forwarded source checked (400 when malformed), sign-ins recorded, a brownout's
 * refusals listed, a canary tripped through /v1/verify and through a SigV4 sign-in (answering
 * exactly like an invalid key), --grace auto seen through the server, and webhooks sent by the
 * server by itself.
 */
import test from 'ava';
import type { KeyDetails } from '../../src/service/types.js';
import { INVALID_BODY } from '../../src/server/routes/verify.js';
import { postVerify, rawRequest, serverFixture, signedHeaders, type ServerFixture } from '../helpers/server.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';

function verify(fx: ServerFixture, body: unknown, userAgent?: string) {
  return rawRequest(fx.url, {
    method: 'POST',
    path: '/v1/verify',
    headers: { 'content-type': 'application/json', ...(userAgent ? { 'user-agent': userAgent } : {}) },
    body: JSON.stringify(body),
  });
}

/** Polls until `done` holds (uses are written once a second); fails after 10 s with the last value. */
async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const value = await read();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function newKey(fx: ServerFixture, name: string, extra: { canary?: boolean } = {}) {
  return fx.remote(fx.admin).createKey({
    name,
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: ['ReadOnly'],
    ...extra,
  });
}

test('sources are recorded under 8 concurrent verifiers: each source once, every use counted', async (t) => {
  const fx = await serverFixture({ verifyRate: 10_000, verifyBurst: 10_000 });
  t.teardown(fx.close);
  const key = await newKey(fx, 'shared');
  const PER = 25;
  const verifiers = Array.from({ length: 8 }, (_, i) => ({ service: `svc-${i}`, address: `10.0.0.${i + 1}` }));
  const answers = await Promise.all(
    verifiers.map(async (source, i) => {
      const codes: number[] = [];
      for (let n = 0; n < PER; n++)
        codes.push((await verify(fx, { keyString: key.keyString, source }, `verifier/${i}`)).status);
      return codes;
    }),
  );
  t.true(answers.flat().every((status) => status === 200));
  const admin = fx.remote(fx.admin);
  const shown = await eventually(
    () => admin.showKey(key.accessKeyId),
    (k) => k.secrets[0]!.sources.reduce((n, s) => n + s.count, 0) === 8 * PER,
  );
  const sources = shown.secrets[0]!.sources;
  t.is(sources.length, 8);
  t.deepEqual(
    sources.map((s) => [s.service, s.address, s.userAgent, s.via, s.count]).sort(),
    verifiers.map((v, i) => [v.service, v.address, `verifier/${i}`, '127.0.0.1', PER]).sort(),
  );
  t.is(shown.secrets[0]!.lastUsedAt, shown.lastUsedAt);
});

test('a malformed source is refused with 400 before the key is looked at; a sign-in is a use too', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const key = await newKey(fx, 'k');
  for (const source of [
    { service: 'x'.repeat(65) },
    { address: '10.0.0' },
    { service: 'bill\u202eing' },
    { port: 1 },
    'billing',
  ]) {
    const reply = await verify(fx, { keyString: key.keyString, source });
    t.is(reply.status, 400, JSON.stringify(source));
    t.like(reply.json, { valid: false, error: { code: 'invalid_body', exitCode: 2 } });
  }
  // A signed request with the key records its own use: the client address and user agent.
  const headers = signedHeaders(fx.url, key, { path: '/v1/whoami', headers: { 'user-agent': 'deploy-tool/1.2' } });
  t.is((await rawRequest(fx.url, { path: '/v1/whoami', headers })).status, 200);
  const shown = await eventually(
    () => fx.remote(fx.admin).showKey(key.accessKeyId),
    (k) => k.secrets[0]!.sources.length > 0,
  );
  t.like(shown.secrets[0]!.sources[0], { service: null, address: '127.0.0.1', userAgent: 'deploy-tool/1.2', count: 1 });
});

test('a canary answers like an invalid key, on /v1/verify and on a sign-in, and raises the alarm', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const canary = await newKey(fx, 'backup-admin', { canary: true });
  const ordinary = await newKey(fx, 'ordinary');
  const viaVerify = await verify(
    fx,
    { keyString: canary.keyString, source: { service: 'billing', address: '198.51.100.7' } },
    'curl/8',
  );
  const unknown = await verify(fx, { accessKeyId: 'AKMAAAAAAAAAAAAAAAAA', secretKey: ordinary.secretKey });
  t.is(viaVerify.status, 401);
  t.is(viaVerify.body, INVALID_BODY);
  t.is(viaVerify.body, unknown.body);
  // A signed request: the same 401 as a wrong signature.
  const signedByCanary = signedHeaders(fx.url, canary, { path: '/v1/keys' });
  const wrong = signedHeaders(fx.url, { ...ordinary, secretKey: canary.secretKey }, { path: '/v1/keys' });
  const a = await rawRequest(fx.url, { path: '/v1/keys', headers: signedByCanary });
  const b = await rawRequest(fx.url, { path: '/v1/keys', headers: wrong });
  t.is(a.status, 401);
  t.deepEqual(a.json, b.json);
  const admin = fx.remote(fx.admin);
  const alarms = await eventually(
    async () => (await admin.listAudit({ limit: 100 })).items.filter((r) => r.action === 'key.canary_tripped'),
    (rows) => rows.length >= 1,
  );
  t.is(alarms.length, 1, 'two attempts within ten minutes: one alert');
  // Both attempts came within one flush: one alert names both, and describes the last.
  t.like(alarms[0]!.details, { path: 'signin', secretMatched: true, attempts: 2 });
  const shown = await eventually(
    () => admin.showKey(canary.accessKeyId),
    (k: KeyDetails) => k.canaryAlarm!.attempts === 2,
  );
  t.is(shown.canaryAlarm!.attempts, 2);
  t.deepEqual(
    shown.canaryAlarm!.sources.map((x) => [x.service, x.address, x.via, x.userAgent]).sort(),
    [
      ['billing', '198.51.100.7', '127.0.0.1', 'curl/8'],
      [null, '127.0.0.1', null, null],
    ].sort(),
  );
  t.is(shown.lastUsedAt, null);
  t.regex((await admin.listNotifications()).items.find((n) => n.action === 'key.canary_tripped')!.message, /ALERT/);
});

test('a brownout through the server: refused with the right secret, listed, and back by itself', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const key = await newKey(fx, 'old-ci');
  const admin = fx.remote(fx.admin);
  const browned = await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 120_000 });
  t.truthy(browned.inactiveUntil);
  const shorter = await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 60_000 });
  t.is(shorter.inactiveUntil, browned.inactiveUntil, 'a shorter one changes nothing');
  t.regex(shorter.warnings?.[0] ?? '', /already in a brownout until .*, longer than the 1 minute asked/, 'and says so');
  t.is((await verify(fx, { keyString: key.keyString, source: { service: 'reports' } })).body, INVALID_BODY);
  const shown = await eventually(
    () => admin.showKey(key.accessKeyId),
    (k) => k.brownoutAttempts.length > 0,
  );
  t.like(shown.brownoutAttempts[0], { service: 'reports', address: '127.0.0.1', count: 1 });
  t.is(shown.inactiveUntil, browned.inactiveUntil);
});

test('--grace auto through the server: the old secret still used by billing is visible, --finish ends it', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const key = await newKey(fx, 'deploy');
  const admin = fx.remote(fx.admin);
  const rotated = await admin.rotateKey(key.accessKeyId, { kind: 'auto', quietForMs: 3_600_000 });
  t.is(rotated.grace!.mode, 'auto');
  t.is(
    (await verify(fx, { keyString: key.keyString, source: { service: 'billing', address: '10.0.0.5' } })).status,
    200,
  );
  const shown = await eventually(
    () => admin.showKey(key.accessKeyId),
    (k) => (k.secrets.find((s) => s.version === 'previous')?.sources.length ?? 0) > 0,
  );
  t.like(shown.secrets.find((s) => s.version === 'previous')!.sources[0], { service: 'billing', address: '10.0.0.5' });
  await admin.finishGrace(key.accessKeyId);
  t.is((await verify(fx, { keyString: key.keyString })).status, 401);
  t.is((await verify(fx, { keyString: rotated.keyString })).status, 200);
});

test('akm serve delivers webhook events by itself, signed, soon after the change', async (t) => {
  const fx = await serverFixture({ deliveryIntervalMs: 200 });
  t.teardown(fx.close);
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.close());
  const admin = fx.remote(fx.admin);
  const hook = await admin.addWebhook({ url: receiver.url, events: ['key.created', 'key.canary_tripped'] });
  receiver.secret = hook.secret;
  const key = await newKey(fx, 'from-afar');
  await receiver.waitFor((r) => r.some((x) => x.payload.type === 'key.created'));
  const created = receiver.received.find((x) => x.payload.type === 'key.created')!;
  t.is(created.problem, null);
  t.like(created.payload.data, { accessKeyId: key.accessKeyId, name: 'from-afar', actor: 'admin@acme.test' });
  const canary = await newKey(fx, 'bait', { canary: true });
  await postVerify(fx.url, { keyString: canary.keyString });
  await receiver.waitFor((r) => r.some((x) => x.payload.type === 'key.canary_tripped'));
  const tripped = receiver.received.find((x) => x.payload.type === 'key.canary_tripped')!;
  t.is(tripped.problem, null);
  t.like(tripped.payload.data, { accessKeyId: canary.accessKeyId, path: 'verify', attempts: 1 });
  t.false(tripped.body.includes(canary.secretKey));
  const listed = await admin.listWebhooks();
  t.is(listed[0]!.lastAttempt?.ok, true);
});
