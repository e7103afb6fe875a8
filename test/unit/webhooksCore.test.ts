/** Webhooks, pure: which URLs, which events, when to retry and when to give up. */
import test from 'ava';
import fc from 'fast-check';
import { canaryAlertDue, CANARY_ALERT_INTERVAL_MS } from '../../src/core/canary.js';
import { UsageError } from '../../src/core/errors.js';
import {
  checkWebhookUrl,
  generateEventId,
  generateWebhookId,
  generateWebhookSecret,
  givenUp,
  isWebhookId,
  parseEvents,
  retryDelayMs,
  wantsEvent,
  webhookPayload,
  WEBHOOK_EVENTS,
} from '../../src/core/webhooks.js';
import { checkAsyncProperty, checkProperty } from '../helpers/property.js';

test('URLs: https anywhere, http only to a loopback address, never with credentials', (t) => {
  for (const url of [
    'https://hooks.acme.test/akm',
    'https://10.0.0.5:8443/in?x=1',
    'http://127.0.0.1:9000/hook',
    'http://127.8.9.10/',
    'http://[::1]:8080/hook',
  ])
    t.notThrows(() => checkWebhookUrl(url), url);
  const refused: Array<[string, RegExp]> = [
    ['http://hooks.acme.test/akm', /loopback/],
    ['http://localhost:9000/', /loopback/],
    ['http://10.0.0.5/', /loopback/],
    ['http://[::ffff:127.0.0.1]/', /loopback/],
    ['https://user:pass@hooks.acme.test/', /user name or password/],
    ['https://user@hooks.acme.test/', /user name or password/],
    ['https://hooks.acme.test/#frag', /fragment/],
    ['ftp://hooks.acme.test/', /scheme/],
    ['file:///etc/passwd', /scheme/],
    ['javascript:alert(1)', /scheme/],
    ['hooks.acme.test/akm', /not a URL/],
    [`https://hooks.acme.test/${'a'.repeat(2100)}`, /longer than/],
  ];
  for (const [url, why] of refused) {
    const error = t.throws<UsageError>(() => checkWebhookUrl(url), { instanceOf: UsageError }, url);
    t.is(error.code, 'invalid_webhook_url');
    t.regex(error.message, why);
  }
});

/**
 * What Node's own fetch says about a port, without any connection: a dispatcher that fails every
 * request it is handed. fetch refuses a bad port before it hands anything to a dispatcher.
 */
async function fetchRefusesPort(port: number): Promise<boolean> {
  const dispatcher = {
    dispatch(_options: unknown, handler: { onError(error: Error): void }) {
      handler.onError(new Error('not sent'));
      return true;
    },
  };
  try {
    await fetch(`https://hooks.acme.test:${port}/akm`, { dispatcher } as RequestInit);
  } catch (error) {
    return (error as { cause?: { message?: string } }).cause?.message === 'bad port';
  }
  return false;
}

function akmRefusesPort(port: number): boolean {
  try {
    checkWebhookUrl(`https://hooks.acme.test:${port}/akm`);
    return false;
  } catch (error) {
    return error instanceof UsageError && /port \d+ is one that HTTP clients refuse/.test(error.message);
  }
}

test('ports: refused exactly where fetch refuses to connect (every port to 11,000, a sample above)', async (t) => {
  const differ: number[] = [];
  for (let port = 1; port <= 11_000; port++)
    if ((await fetchRefusesPort(port)) !== akmRefusesPort(port)) differ.push(port);
  t.deepEqual(differ, []);
  t.true(await fetchRefusesPort(6000), 'the probe sees a refusal');
  t.false(await fetchRefusesPort(8443), 'the probe sees an acceptance');
  await checkAsyncProperty(
    t,
    'ports above 11,000',
    fc.asyncProperty(fc.integer({ min: 11_001, max: 65_535 }), async (port) => {
      return (await fetchRefusesPort(port)) === akmRefusesPort(port);
    }),
  );
  t.true(akmRefusesPort(0), 'port 0 reaches nobody');
  t.is(checkWebhookUrl('https://hooks.acme.test:443/akm'), 'https://hooks.acme.test/akm', 'the default port is fine');
});

test('events: a list of known types, or * (the default)', (t) => {
  t.deepEqual(parseEvents(undefined), ['*']);
  t.deepEqual(parseEvents('*'), ['*']);
  t.deepEqual(parseEvents('key.created, key.rotated,key.created'), ['key.created', 'key.rotated']);
  t.is(t.throws<UsageError>(() => parseEvents('key.created,key.exploded')).code, 'invalid_event');
  t.is(t.throws<UsageError>(() => parseEvents('*,key.created')).code, 'invalid_event');
  t.throws(() => parseEvents(' , '), { instanceOf: UsageError });
  t.true(wantsEvent(['*'], 'key.deleted'));
  t.true(wantsEvent(['key.deleted'], 'key.deleted'));
  t.false(wantsEvent(['key.created'], 'key.deleted'));
  t.true(WEBHOOK_EVENTS.includes('key.canary_tripped'));
});

test('ids and secrets: the formats the Standard Webhooks libraries expect; no dot in an event id', (t) => {
  const id = generateWebhookId();
  t.true(isWebhookId(id), id);
  t.false(isWebhookId(`${id}x`));
  const secret = generateWebhookSecret();
  t.regex(secret, /^whsec_[A-Za-z0-9+/]{43}=$/);
  t.is(Buffer.from(secret.slice(6), 'base64').length, 32);
  t.regex(generateEventId(), /^msg_[0-9A-Za-z]{24}$/);
  t.not(generateEventId(), generateEventId());
});

test('the payload: type, timestamp, data, as the specification recommends', (t) => {
  t.deepEqual(JSON.parse(webhookPayload('key.rotated', '2026-05-01T00:00:00.000Z', { accessKeyId: 'AKM1' })), {
    type: 'key.rotated',
    timestamp: '2026-05-01T00:00:00.000Z',
    data: { accessKeyId: 'AKM1' },
  });
});

test('retries: exponential from 10 s up to an hour, with jitter in the upper half; given up after 24 h', (t) => {
  checkProperty(
    t,
    'retry delays',
    fc.property(
      fc.integer({ min: 1, max: 1000 }),
      fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
      (attempt, random) => {
        const ceiling = Math.min(3_600_000, 10_000 * 2 ** (attempt - 1));
        const delay = retryDelayMs(attempt, random);
        return delay >= ceiling / 2 && delay <= ceiling && retryDelayMs(attempt + 1, random) >= delay;
      },
    ),
  );
  t.is(retryDelayMs(1, 0), 5000);
  t.true(retryDelayMs(50, 0.999_999) <= 3_600_000 && retryDelayMs(50, 0.999_999) > 3_599_000);
  const created = '2026-05-01T00:00:00.000Z';
  t.false(givenUp(created, new Date('2026-05-01T23:59:59.999Z')));
  t.true(givenUp(created, new Date('2026-05-02T00:00:00.000Z')));
  t.true(givenUp('garbage', new Date()));
});

test('canary alerts: at most one per key every ten minutes; an odd stored time never silences it', (t) => {
  const now = new Date('2026-05-01T12:00:00.000Z');
  t.true(canaryAlertDue(null, now));
  t.false(canaryAlertDue(new Date(now.getTime() - CANARY_ALERT_INTERVAL_MS + 1).toISOString(), now));
  t.true(canaryAlertDue(new Date(now.getTime() - CANARY_ALERT_INTERVAL_MS).toISOString(), now));
  t.true(canaryAlertDue('not a time', now));
  t.true(canaryAlertDue('2099-01-01T00:00:00.000Z', now));
});
