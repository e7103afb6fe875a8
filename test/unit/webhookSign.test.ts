/**
 * Signatures: what akm sends (signed by the standardwebhooks library) verifies with a second,
 * independent implementation written from the specification (test/helpers/webhookReceiver.ts),
 * and the library reproduces the published example of the Standard Webhooks project.
 */
import test from 'ava';
import fc from 'fast-check';
import { generateEventId, generateWebhookSecret } from '../../src/core/webhooks.js';
import { signedHeaders } from '../../src/notify/webhookSender.js';
import { verifyStandardWebhook } from '../helpers/webhookReceiver.js';
import { checkProperty } from '../helpers/property.js';

test("the Standard Webhooks project's published example signs to its published signature", (t) => {
  // From the project's reference libraries (standard-webhooks/standard-webhooks, "sign function works").
  const event = {
    url: 'https://unused.test/',
    secret: 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw',
    eventId: 'msg_p5jXN8AQM9LWM0D4loKWxJek',
    payload: '{"test": 2432232314}',
  };
  const at = new Date(1614265330 * 1000);
  const headers = signedHeaders(event, at);
  t.is(headers['webhook-signature'], 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=');
  t.is(headers['webhook-timestamp'], '1614265330');
  t.is(headers['webhook-id'], 'msg_p5jXN8AQM9LWM0D4loKWxJek');
  // The independent verifier agrees with the published vector.
  t.is(verifyStandardWebhook(event.secret, headers, event.payload, 1614265330), null);
});

test('every signed delivery verifies independently; any change to body, id, timestamp or secret fails', (t) => {
  checkProperty(
    t,
    'signatures verify independently',
    fc.property(fc.string({ maxLength: 500, unit: 'grapheme' }), fc.integer({ min: 0, max: 600 }), (body, skew) => {
      const secret = generateWebhookSecret();
      const event = { url: 'https://unused.test/', secret, eventId: generateEventId(), payload: body };
      const now = Date.now();
      const headers = signedHeaders(event, new Date(now - skew * 1000));
      const nowSeconds = Math.floor(now / 1000);
      const verdict = verifyStandardWebhook(secret, headers, body, nowSeconds);
      if (skew <= 299 && verdict !== null) return false;
      if (skew > 301 && verdict !== 'timestamp out of tolerance') return false;
      const other = generateWebhookSecret();
      return (
        verifyStandardWebhook(secret, headers, `${body} `, nowSeconds - skew) === 'no matching signature' &&
        verifyStandardWebhook(secret, { ...headers, 'webhook-id': generateEventId() }, body, nowSeconds - skew) ===
          'no matching signature' &&
        verifyStandardWebhook(
          secret,
          { ...headers, 'webhook-timestamp': String(Number(headers['webhook-timestamp']) + 1) },
          body,
          nowSeconds - skew,
        ) === 'no matching signature' &&
        verifyStandardWebhook(other, headers, body, nowSeconds - skew) === 'no matching signature'
      );
    }),
  );
});
