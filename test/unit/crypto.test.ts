import test from 'ava';
import { randomBytes } from 'node:crypto';
import { generateAccessKeyId, generateSecretKey } from '../../src/core/credentials.js';
import { UnavailableError, UsageError } from '../../src/core/errors.js';
import { ENCRYPTED_PREFIX, parseKeyString, formatKeyString } from '../../src/core/keyString.js';
import { assertCheckValue, checkValue, constantTimeEqual, deriveKeys, parseMasterKey } from '../../src/crypto/keys.js';
import {
  digestMatches,
  openSecret,
  sealedForDisplay,
  sealSecret,
  secretDigest,
  TamperedSecretError,
} from '../../src/crypto/seal.js';

const keys = deriveKeys(randomBytes(32));
const other = deriveKeys(randomBytes(32));
const id = generateAccessKeyId();
const secret = generateSecretKey();

test('seal then open returns the secret; every seal uses a fresh nonce', (t) => {
  const a = sealSecret(keys, 'acme', id, secret);
  const b = sealSecret(keys, 'acme', id, secret);
  t.is(openSecret(keys, 'acme', id, a), secret);
  t.is(openSecret(keys, 'acme', id, b), secret);
  t.notDeepEqual(a, b);
  t.is(a.length, 1 + 12 + secret.length + 16);
  t.false(a.includes(Buffer.from(secret)), 'the sealed bytes must not contain the secret');
});

test('flipping any bit of any byte (version, nonce, ciphertext, tag) fails cleanly', (t) => {
  const sealed = sealSecret(keys, 'acme', id, secret);
  let cases = 0;
  for (let i = 0; i < sealed.length; i++) {
    for (const mask of [0x01, 0x80, 0xff]) {
      const bad = Buffer.from(sealed);
      bad[i]! ^= mask;
      const error = t.throws(() => openSecret(keys, 'acme', id, bad), { instanceOf: TamperedSecretError });
      t.is(error?.exitCode, 6);
      t.false(error?.message.includes(secret) ?? true);
      cases++;
    }
  }
  t.log(`${cases} single-byte tamperings of a ${sealed.length}-byte sealed secret, all detected`);
});

test('truncated, extended or empty sealed bytes fail cleanly', (t) => {
  const sealed = sealSecret(keys, 'acme', id, secret);
  for (const bad of [
    Buffer.alloc(0),
    sealed.subarray(0, 1),
    sealed.subarray(0, 29),
    sealed.subarray(0, sealed.length - 1),
    Buffer.concat([sealed, Buffer.from([0])]),
  ]) {
    t.throws(() => openSecret(keys, 'acme', id, bad), { instanceOf: TamperedSecretError });
  }
});

test('AAD binds the sealed secret to its tenant and key id', (t) => {
  const sealed = sealSecret(keys, 'acme', id, secret);
  t.throws(() => openSecret(keys, 'acme', generateAccessKeyId(), sealed), { instanceOf: TamperedSecretError });
  t.throws(() => openSecret(keys, 'globex', id, sealed), { instanceOf: TamperedSecretError });
  // the separator keeps "ab"+"c" apart from "a"+"bc"
  const tricky = sealSecret(keys, 'acme1', id, secret);
  t.throws(() => openSecret(keys, 'acme', `1${id}`, tricky), { instanceOf: TamperedSecretError });
  t.throws(() => openSecret(other, 'acme', id, sealed), { instanceOf: TamperedSecretError }, 'another master key');
});

test('the sealed display form is recognised by the key-string parser and holds no secret', (t) => {
  const sealed = sealSecret(keys, 'acme', id, secret);
  const shown = sealedForDisplay(sealed);
  t.true(shown.startsWith(ENCRYPTED_PREFIX));
  t.false(shown.includes(secret));
  t.deepEqual(Buffer.from(shown.slice(ENCRYPTED_PREFIX.length), 'base64url'), sealed);
  const parsed = parseKeyString(formatKeyString(id, shown, 'acme'));
  t.true(parsed.encrypted);
});

test('digests are bound to tenant, key id and secret, and keyed by the master key', (t) => {
  const d = secretDigest(keys, 'acme', id, secret);
  t.is(d.length, 32);
  t.deepEqual(secretDigest(keys, 'acme', id, secret), d);
  t.true(digestMatches(keys, 'acme', id, secret, d));
  t.false(digestMatches(keys, 'acme', id, generateSecretKey(), d));
  t.false(digestMatches(keys, 'globex', id, secret, d));
  t.false(digestMatches(keys, 'acme', generateAccessKeyId(), secret, d));
  t.false(digestMatches(other, 'acme', id, secret, d));
  t.false(digestMatches(keys, 'acme', id, secret, null));
  t.false(digestMatches(keys, 'acme', id, secret, d.subarray(0, 31)));
  t.false(d.includes(Buffer.from(secret)));
  for (let i = 0; i < d.length; i++) {
    const bad = Buffer.from(d);
    bad[i]! ^= 0x01;
    if (digestMatches(keys, 'acme', id, secret, bad)) t.fail(`digest byte ${i} flipped still matches`);
  }
});

test('constantTimeEqual is plain equality on bytes, including different lengths', (t) => {
  const a = randomBytes(32);
  t.true(constantTimeEqual(a, Buffer.from(a)));
  t.true(constantTimeEqual(Buffer.alloc(0), Buffer.alloc(0)));
  t.false(constantTimeEqual(a, Buffer.concat([a, Buffer.from([0])])));
  t.false(constantTimeEqual(a, a.subarray(0, 31)));
  t.false(constantTimeEqual(a, Buffer.alloc(0)));
  for (const i of [0, 15, 31]) {
    const b = Buffer.from(a);
    b[i]! ^= 0x40;
    t.false(constantTimeEqual(a, b), `differs at ${i}`);
  }
});

test('subkeys are distinct and derived deterministically from the master key', (t) => {
  const master = randomBytes(32);
  const k1 = deriveKeys(master);
  const k2 = deriveKeys(Buffer.from(master));
  t.deepEqual(k1, k2);
  const all = [k1.seal, k1.digest, k1.audit, k1.check].map((b) => b.toString('hex'));
  t.is(new Set(all).size, 4);
  t.false(all.includes(master.toString('hex')));
  t.throws(() => deriveKeys(randomBytes(16)), { instanceOf: UsageError });
});

test('check value: the right master key passes, any other fails with exit 6', (t) => {
  const value = checkValue(keys, 'store-1');
  t.notThrows(() => assertCheckValue(keys, 'store-1', value));
  const wrong = t.throws(() => assertCheckValue(other, 'store-1', value), { instanceOf: UnavailableError });
  t.is(wrong?.exitCode, 6);
  t.is(wrong?.code, 'wrong_master_key');
  t.throws(() => assertCheckValue(keys, 'store-2', value), { instanceOf: UnavailableError }, 'bound to the store id');
  t.throws(() => assertCheckValue(keys, 'store-1', ''), { instanceOf: UnavailableError });
});

test('parseMasterKey: base64 of exactly 32 bytes, otherwise exit 6', (t) => {
  const key = randomBytes(32);
  t.deepEqual(parseMasterKey(`${key.toString('base64')}\n`, 'test'), key);
  for (const bad of [
    '',
    'not base64!',
    randomBytes(31).toString('base64'),
    randomBytes(33).toString('base64'),
    key.toString('hex'),
    `${key.toString('base64')}AAAA`,
  ]) {
    const error = t.throws(() => parseMasterKey(bad, 'AKM_MASTER_KEY'), { instanceOf: UnavailableError }, bad);
    t.is(error?.exitCode, 6);
  }
});
