/** The source a verifying service passes on, and the user agent as stored. */
import test from 'ava';
import fc from 'fast-check';
import { UsageError } from '../../src/core/errors.js';
import {
  canonicalAddress,
  parseForwardedSource,
  requestSource,
  sourceKey,
  userAgentOf,
} from '../../src/core/source.js';
import { INVISIBLE } from '../helpers/invisible.js';
import { checkProperty } from '../helpers/property.js';

test('a valid source: a service name of at most 64 characters and an IPv4 or IPv6 literal, both optional', (t) => {
  t.deepEqual(parseForwardedSource({ service: 'billing', address: '10.0.0.5' }), {
    service: 'billing',
    address: '10.0.0.5',
  });
  t.deepEqual(parseForwardedSource({}), {});
  t.deepEqual(parseForwardedSource({ service: 'b'.repeat(64) }), { service: 'b'.repeat(64) });
  t.deepEqual(parseForwardedSource({ service: 'Rechnungs-Dienst ü' }), { service: 'Rechnungs-Dienst ü' });
  // One spelling per address, so the same caller is one source.
  t.deepEqual(parseForwardedSource({ address: '2001:DB8:0:0::1' }), { address: '2001:db8::1' });
  t.is(canonicalAddress('::1'), '::1');
});

test('a bad source is refused with invalid_body (400), naming the field', (t) => {
  const bad: Array<[unknown, RegExp]> = [
    [null, /JSON object/],
    ['billing', /JSON object/],
    [['billing'], /JSON object/],
    [{ service: 'billing', port: 80 }, /unknown field: "port"/],
    [{ service: '' }, /source\.service/],
    [{ service: 'b'.repeat(65) }, /source\.service/],
    [{ service: 42 }, /source\.service/],
    [{ service: 'bill\u0000ing' }, /invisible/],
    [{ service: 'bill\u001b[2Jing' }, /invisible/],
    [{ service: 'bill\u202eing' }, /invisible/],
    [{ service: 'bill\u200bing' }, /invisible/],
    [{ service: 'bill\u2028ing' }, /invisible/],
    [{ service: 'bill\u0085ing' }, /invisible/],
    [{ service: 'bill\ufeffing' }, /invisible/],
    // Fillers that render as nothing: a service named by one alone would look blank.
    [{ service: '\u3164' }, /invisible/],
    [{ service: '\u2800' }, /invisible/],
    [{ service: 'bill\u00a0ing' }, /invisible/],
    [{ service: 'bill\ue000ing' }, /invisible/],
    [{ address: 'localhost' }, /source\.address/],
    [{ address: '10.0.0' }, /source\.address/],
    [{ address: '10.0.0.256' }, /source\.address/],
    [{ address: '010.0.0.1' }, /source\.address/],
    [{ address: ' 10.0.0.5' }, /source\.address/],
    [{ address: '10.0.0.5/24' }, /source\.address/],
    [{ address: 'fe80::1%eth0' }, /source\.address/],
    [{ address: '[::1]' }, /source\.address/],
    [{ address: 167772165 }, /source\.address/],
    [{ address: `${'1:'.repeat(40)}1` }, /source\.address/],
  ];
  for (const [value, message] of bad) {
    const error = t.throws<UsageError>(
      () => parseForwardedSource(value),
      { instanceOf: UsageError },
      JSON.stringify(value),
    );
    t.is(error.code, 'invalid_body');
    t.is(error.exitCode, 2);
    t.regex(error.message, message);
  }
});

test('a service name with any character nobody sees is refused; a plain space between words is not', (t) => {
  t.deepEqual(parseForwardedSource({ service: 'billing api' }), { service: 'billing api' });
  checkProperty(
    t,
    'service name with one invisible character',
    fc.property(fc.constantFrom(...INVISIBLE.filter((c) => c !== ' ')), fc.nat(7), (bad, at) => {
      const service = 'billing'.slice(0, at) + bad + 'billing'.slice(at);
      try {
        parseForwardedSource({ service });
      } catch (error) {
        if (error instanceof UsageError && /invisible/.test(error.message)) return;
      }
      throw new Error(`accepted or badly refused: ${JSON.stringify(service)}`);
    }),
  );
  const agent = userAgentOf(`agent/1 (${INVISIBLE.filter((c) => c !== ' ').join('')})`)!;
  t.notRegex(agent.slice(9, -1), /[^\ufffd]/u, 'every invisible character of a user agent is replaced');
});

test('a user agent is stored without invisible characters, at most 200 characters; none is null', (t) => {
  t.is(userAgentOf('curl/8.5.0'), 'curl/8.5.0');
  t.is(userAgentOf(['a/1', 'b/2']), 'a/1');
  t.is(userAgentOf(undefined), null);
  t.is(userAgentOf('   '), null);
  t.is(userAgentOf('evil\u001b[31m\u0085agent'), 'evil\ufffd[31m\ufffdagent');
  t.is(userAgentOf('agent/1 (\u3164\u2800)'), 'agent/1 (\ufffd\ufffd)');
  t.is(userAgentOf('x'.repeat(500))!.length, 200);
});

test('a forwarded address is the source; the client the server saw becomes "via"', (t) => {
  t.deepEqual(requestSource('10.1.1.1', 'billing-verifier/2', { service: 'billing', address: '10.0.0.5' }), {
    service: 'billing',
    address: '10.0.0.5',
    userAgent: 'billing-verifier/2',
    via: '10.1.1.1',
  });
  t.deepEqual(requestSource('10.1.1.1', null, { service: 'billing' }), {
    service: 'billing',
    address: '10.1.1.1',
    userAgent: null,
    via: null,
  });
  t.deepEqual(requestSource('10.1.1.1', 'curl/8'), {
    service: null,
    address: '10.1.1.1',
    userAgent: 'curl/8',
    via: null,
  });
  const a = requestSource('10.1.1.1', 'x', { address: '10.0.0.5' });
  const b = requestSource('10.1.1.2', 'x', { address: '10.0.0.5' });
  t.not(sourceKey(a), sourceKey(b));
});
