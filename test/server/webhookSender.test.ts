/** One delivery over real HTTP on loopback: signed, judged by the status, bounded in time, never redirected. */
import test from 'ava';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateEventId, generateWebhookSecret, webhookPayload } from '../../src/core/webhooks.js';
import { sendWebhook } from '../../src/notify/webhookSender.js';
import { WebhookReceiver } from '../helpers/webhookReceiver.js';

function event(url: string, secret: string) {
  return {
    url,
    secret,
    eventId: generateEventId(),
    payload: webhookPayload('key.created', new Date().toISOString(), { accessKeyId: 'AKMAAAAAAAAAAAAAAAAA' }),
  };
}

test('a delivery arrives signed, and verifies with an independent implementation', async (t) => {
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.close());
  receiver.secret = generateWebhookSecret();
  const sent = event(receiver.url, receiver.secret);
  t.deepEqual(await sendWebhook(sent, new Date()), { ok: true, status: 204, error: null });
  t.is(receiver.received.length, 1);
  const got = receiver.received[0]!;
  t.is(got.problem, null);
  t.is(got.id, sent.eventId);
  t.is(got.body, sent.payload);
  t.is(got.payload.type, 'key.created');
  t.is(got.userAgent, 'akm-webhooks');
  t.false(got.body.includes(receiver.secret));
});

test('a failing receiver is a failure with its status; a hanging one times out', async (t) => {
  const receiver = await WebhookReceiver.start();
  t.teardown(() => receiver.close());
  receiver.secret = generateWebhookSecret();
  receiver.mode = 'fail';
  t.deepEqual(await sendWebhook(event(receiver.url, receiver.secret), new Date()), {
    ok: false,
    status: 500,
    error: 'HTTP 500: not a 2xx answer',
  });
  receiver.mode = 'hang';
  const outcome = await sendWebhook(event(receiver.url, receiver.secret), new Date(), { timeoutMs: 300 });
  t.deepEqual(outcome, { ok: false, status: null, error: 'no answer within 0.3 s' });
});

test('a redirect is not followed', async (t) => {
  const target = await WebhookReceiver.start();
  t.teardown(() => target.close());
  const redirector = createServer((_req, res) => res.writeHead(307, { location: target.url }).end());
  await new Promise<void>((resolve) => redirector.listen(0, '127.0.0.1', resolve));
  t.teardown(() => redirector.close());
  const url = `http://127.0.0.1:${(redirector.address() as AddressInfo).port}/`;
  const outcome = await sendWebhook(event(url, generateWebhookSecret()), new Date());
  t.deepEqual(outcome, { ok: false, status: 307, error: 'HTTP 307: redirects are not followed' });
  t.is(target.received.length, 0);
});

test('a URL that is no longer allowed is refused before any request; a closed port is a connection failure', async (t) => {
  const refused = await sendWebhook(event('http://example.com/hook', generateWebhookSecret()), new Date());
  t.false(refused.ok);
  t.regex(refused.error!, /loopback/);
  // A webhook stored before bad ports were refused: named as such, never tried.
  const badPort = await sendWebhook(event('http://127.0.0.1:6000/hook', generateWebhookSecret()), new Date());
  t.deepEqual(badPort, {
    ok: false,
    status: null,
    error: 'webhook URL refused: port 6000 is one that HTTP clients refuse to connect to',
  });
  const closed = createServer();
  await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
  const port = (closed.address() as AddressInfo).port;
  await new Promise<void>((resolve) => closed.close(() => resolve()));
  const outcome = await sendWebhook(event(`http://127.0.0.1:${port}/`, generateWebhookSecret()), new Date());
  t.deepEqual(outcome, { ok: false, status: null, error: 'could not connect: ECONNREFUSED' });
});
