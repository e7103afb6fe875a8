import test from 'ava';
import { generateAccessKeyId, generateSecretKey } from '../../src/core/credentials.js';
import { AkmError } from '../../src/core/errors.js';
import { ENCRYPTED_PREFIX, formatKeyString, parseKeyString } from '../../src/core/keyString.js';

const id = generateAccessKeyId();
const secret = generateSecretKey();

test('format is exactly key:<id>::<secret>,tenant id:<tenant>', (t) => {
  t.is(formatKeyString(id, secret, 'acme'), `key:${id}::${secret},tenant id:acme`);
});

test('parse round-trips the formatted string', (t) => {
  t.deepEqual(parseKeyString(formatKeyString(id, secret, 'acme')), {
    accessKeyId: id,
    secret,
    tenantId: 'acme',
    encrypted: false,
  });
});

test('parse tolerates a space after "tenant id:", a trailing newline and surrounding white space', (t) => {
  const expected = { accessKeyId: id, secret, tenantId: 'acme-2', encrypted: false };
  for (const text of [
    `key:${id}::${secret},tenant id: acme-2`,
    `key:${id}::${secret},tenant id:acme-2\n`,
    `key:${id}::${secret},tenant id: acme-2\r\n`,
    `  key:${id}::${secret},tenant id:acme-2  `,
  ]) {
    t.deepEqual(parseKeyString(text), expected, JSON.stringify(text));
  }
});

test('parse recognises the sealed form that akm copy prints', (t) => {
  const sealed = `${ENCRYPTED_PREFIX}AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyA_-w`;
  const parts = parseKeyString(formatKeyString(id, sealed, 'acme'));
  t.true(parts.encrypted);
  t.is(parts.secret, sealed);
});

function refusal(t: import('ava').ExecutionContext, text: string): AkmError {
  const error = t.throws(() => parseKeyString(text), { instanceOf: AkmError }, JSON.stringify(text));
  return error;
}

test('parse refuses malformed strings with exit 2 and never echoes the secret', (t) => {
  const bad = [
    '',
    '\n',
    secret,
    `${id}:${secret}`,
    `key:${id}:${secret},tenant id:acme`,
    `key:${id}::${secret}tenant id:acme`,
    `key:${id}::${secret},tenant id:`,
    `key:${id}::${secret},tenant id:  acme`,
    `key:${id}::${secret},tenant-id:acme`,
    `key:${id}::${secret},tenant id:Acme`,
    `key:${id}::${secret},tenant id:acme extra`,
    `KEY:${id}::${secret},tenant id:acme`,
    `key:${id.toLowerCase()}::${secret},tenant id:acme`,
    `key:${id.slice(1)}::${secret},tenant id:acme`,
    `key:${id}::${secret.slice(0, -1)},tenant id:acme`,
    `key:${id}::${secret}x,tenant id:acme`,
    `key:${id}::${secret.slice(0, 20)}${secret[20] === 'a' ? 'b' : 'a'}${secret.slice(21)},tenant id:acme`,
    `key:${id}::,tenant id:acme`,
    `key:${id}::${secret},tenant id:acme\nkey:${id}::${secret},tenant id:acme`,
    `key:${id}::${secret},tenant id:-acme`,
    `key:${id}::${secret},tenant id:acme\u0000`,
  ];
  for (const text of bad) {
    const error = refusal(t, text);
    t.is(error.exitCode, 2);
    t.is(error.code, 'malformed_key_string');
    t.false(error.message.includes(secret.slice(5, 20)), 'the message must not contain the secret');
    t.false((error.hint ?? '').includes(secret.slice(5, 20)));
  }
  t.log(`${bad.length} malformed key strings refused`);
});
