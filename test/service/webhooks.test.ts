/**
 * Webhooks on both engines, against a real receiver on 127.0.0.1 that verifies each delivery
 * with its own implementation of the Standard Webhooks signature: events queued with the change,
 * sent signed, retried with backoff under a receiver that fails, times out and recovers (one
 * delivery per event id after dedupe), given up after 24 hours with a bell; the signing secret
 * shown once and sealed at rest; administrators only.
 */
import { DeniedError, NotFoundError, UsageError } from '../../src/core/errors.js';
import { deliverWebhooks } from '../../src/service/local/webhookDelivery.js';
import type { LocalService } from '../../src/service/local/service.js';
import { actingAs } from '../helpers/acting.js';
import { perEngine } from '../helpers/engines.js';
import { type Clock, HOUR, keyInput, refusal } from '../helpers/service.js';
import { type TempStore } from '../helpers/store.js';
import { clockedStore } from '../helpers/usage.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';
import type { ExecutionContext } from 'ava';

async function setUp(t: ExecutionContext, engine: 'sqlite' | 'postgres') {
  const { store, clock, admin } = await clockedStore(t, engine);
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.close());
  const hook = await admin.addWebhook({ url: receiver.url, events: ['*'] });
  receiver.secret = hook.secret;
  return { store, clock, admin, receiver, hook };
}

function sender(store: TempStore, admin: LocalService, clock: Clock) {
  return async () =>
    deliverWebhooks(
      { store: admin.ctx.store, keys: await admin.ctx.loadKeys(), now: clock.now, random: () => 0.5, timeoutMs: 300 },
      store.tenantId,
    );
}

perEngine(
  'events go out signed, verify independently, carry no secret; the signing secret is sealed at rest',
  async (t, engine) => {
    const { store, admin, receiver, hook } = await setUp(t, engine);
    t.regex(hook.secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
    t.deepEqual(hook.events, ['*']);
    const key = await admin.createKey(keyInput({ name: 'deploy' }));
    const rotated = await admin.rotateKey(key.accessKeyId, { kind: 'auto', quietForMs: HOUR });
    await admin.setKeyStatus(key.accessKeyId, 'inactive', { forMs: 60 * 60_000 });
    await admin.setKeyStatus(key.accessKeyId, 'active');
    await admin.deleteKey(key.accessKeyId);
    const report = await admin.deliver();
    t.deepEqual(report.webhooks, { sent: 5, failed: 0, gaveUp: 0, waiting: 0 });
    t.deepEqual(
      receiver.received.map((r) => r.payload.type),
      ['key.created', 'key.rotated', 'key.deactivated', 'key.activated', 'key.deleted'],
    );
    for (const r of receiver.received) {
      t.is(r.problem, null, r.payload.type);
      t.like(r.payload.data, {
        accessKeyId: key.accessKeyId,
        name: 'deploy',
        tenantId: 'acme',
        actor: 'admin@acme.test',
      });
      t.false(r.body.includes(key.secretKey) || r.body.includes(rotated.secretKey) || r.body.includes('akms_'));
    }
    t.like(receiver.received[1]!.payload.data, { grace: 'auto' });
    t.true(typeof receiver.received[2]!.payload.data.inactiveUntil === 'string');
    const listed = await admin.listWebhooks();
    t.like(listed[0], {
      id: hook.id,
      url: receiver.url,
      pending: 0,
      lastAttempt: { ok: true, status: 204, eventType: 'key.deleted' },
    });
    t.false('secret' in listed[0]!);
    // Sealed: nowhere in the store in clear, in any encoding.
    const raw = await store.raw();
    const dump = JSON.stringify(await raw.dump());
    await raw.close();
    const bytes = Buffer.from(hook.secret.slice(6), 'base64');
    for (const form of [hook.secret, hook.secret.slice(6), bytes.toString('hex'), bytes.toString('base64url')])
      t.false(dump.includes(form), form);
  },
);

perEngine(
  'retries under a receiver that fails, times out and recovers: one delivery per event id after dedupe',
  async (t, engine) => {
    const { store, clock, admin, receiver } = await setUp(t, engine);
    const deliver = sender(store, admin, clock);
    for (const name of ['a', 'b', 'c']) await admin.createKey(keyInput({ name }));
    receiver.mode = 'fail';
    t.deepEqual(await deliver(), { sent: 0, failed: 3, gaveUp: 0 });
    t.deepEqual(await deliver(), { sent: 0, failed: 0, gaveUp: 0 }, 'nothing is due before its retry');
    clock.advance(8_000); // the first retry waits 5-10 s (half of 10 s fixed, half random)
    receiver.mode = 'hang';
    t.deepEqual(await deliver(), { sent: 0, failed: 3, gaveUp: 0 });
    clock.advance(20_000);
    receiver.mode = 'ok';
    t.deepEqual(await deliver(), { sent: 3, failed: 0, gaveUp: 0 });
    t.deepEqual(await deliver(), { sent: 0, failed: 0, gaveUp: 0 });
    t.is(receiver.received.length, 9); // three attempts of each event
    const processed = receiver.processed();
    t.is(processed.size, 3);
    t.deepEqual([...processed.values()].map((r) => r.payload.data.name).sort(), ['a', 'b', 'c']);
    for (const r of receiver.received) t.is(r.problem, null);
    // Each event kept its id on every attempt; each attempt was signed afresh.
    const ids = new Set(receiver.received.map((r) => r.id));
    t.is(ids.size, 3);
    t.is(new Set(receiver.received.map((r) => r.timestamp)).size > 1, true);
  },
);

perEngine('a delivery failing for 24 hours is given up, and the administrators hear of it', async (t, engine) => {
  const { store, clock, admin, receiver } = await setUp(t, engine);
  const deliver = sender(store, admin, clock);
  await admin.createKey(keyInput({ name: 'a' }));
  receiver.mode = 'fail';
  let attempts = 0;
  let gaveUp = 0;
  while (clock.now().getTime() < Date.now() + 26 * HOUR) {
    const counts = await deliver();
    attempts += counts.failed + counts.gaveUp;
    gaveUp += counts.gaveUp;
    clock.advance(30 * 60_000);
  }
  t.is(gaveUp, 1);
  t.true(attempts > 20 && attempts < 60, `${attempts} attempts`);
  const bell = (await admin.listNotifications()).items.find((n) => n.action === 'webhook.given_up');
  t.regex(bell!.message, /gave up delivering 1 webhook event to http:\/\/127\.0\.0\.1:\d+ after 24 hours/);
  t.like((await admin.listWebhooks())[0], { pending: 0, lastAttempt: { ok: false, status: 500 } });
});

perEngine(
  'test sends one signed event now; remove drops what is queued; URLs and events are checked',
  async (t, engine) => {
    const { admin, receiver, hook } = await setUp(t, engine);
    const result = await admin.testWebhook(hook.id);
    t.like(result, { id: hook.id, delivered: true, status: 204, error: null });
    t.is(receiver.received[0]!.payload.type, 'webhook.test');
    t.is(receiver.received[0]!.problem, null);
    receiver.mode = 'fail';
    t.like(await admin.testWebhook(hook.id), { delivered: false, status: 500 });
    await admin.createKey(keyInput({ name: 'queued' }));
    t.is((await admin.listWebhooks())[0]!.pending, 1);
    await admin.removeWebhook(hook.id);
    t.deepEqual(await admin.listWebhooks(), []);
    t.deepEqual((await admin.deliver()).webhooks, { sent: 0, failed: 0, gaveUp: 0, waiting: 0 });
    await refusal(t, () => admin.removeWebhook(hook.id), {
      instanceOf: NotFoundError,
      exitCode: 3,
      code: 'webhook_not_found',
    });
    for (const url of ['http://hooks.acme.test/x', 'https://u:p@hooks.acme.test/', 'ftp://x/'])
      await refusal(t, () => admin.addWebhook({ url, events: ['*'] }), {
        instanceOf: UsageError,
        exitCode: 2,
        code: 'invalid_webhook_url',
      });
    await refusal(t, () => admin.addWebhook({ url: receiver.url, events: ['key.nope'] }), {
      instanceOf: UsageError,
      exitCode: 2,
      code: 'invalid_event',
    });
    // Only the events asked for.
    const some = await admin.addWebhook({ url: receiver.url, events: ['key.deleted'] });
    receiver.secret = some.secret;
    receiver.mode = 'ok';
    const before = receiver.received.length;
    const k = await admin.createKey(keyInput({ name: 'k' }));
    await admin.deleteKey(k.accessKeyId);
    await admin.deliver();
    t.deepEqual(
      receiver.received.slice(before).map((r) => r.payload.type),
      ['key.deleted'],
    );
  },
);

perEngine('webhooks and delivery are for administrators only', async (t, engine) => {
  const { admin, hook } = await setUp(t, engine);
  await admin.createRole('Everything', ['keys:*', 'users:manage', 'audit:read']);
  const manager = await actingAs(admin, null, ['Everything']);
  for (const call of [
    () => manager.addWebhook({ url: 'https://hooks.acme.test/', events: ['*'] }),
    () => manager.listWebhooks(),
    () => manager.removeWebhook(hook.id),
    () => manager.testWebhook(hook.id),
    () => manager.deliver(),
  ])
    await refusal(t, call, { instanceOf: DeniedError, exitCode: 5, code: 'admin_required' });
});
