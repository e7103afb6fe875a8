import test from 'ava';
import { BASE32, BASE62, base62Fixed, crc32, randomString } from '../../src/core/base.js';
import {
  ACCESS_KEY_ID_LENGTH,
  generateAccessKeyId,
  generateSecretKey,
  isAccessKeyId,
  isWellFormedSecret,
  SECRET_LENGTH,
  SECRET_PREFIX,
} from '../../src/core/credentials.js';

test('access key ids: AKM + 17 upper-case base32 characters', (t) => {
  const n = 5000;
  for (let i = 0; i < n; i++) {
    const id = generateAccessKeyId();
    t.is(id.length, ACCESS_KEY_ID_LENGTH);
    t.true(id.startsWith('AKM'));
    for (const c of id.slice(3)) if (!BASE32.includes(c)) t.fail(`${id} has ${c} outside base32`);
    t.true(isAccessKeyId(id));
  }
  t.log(`${n} ids checked`);
});

test('secret keys: akms_ + 44 base62 + 6 base62 checksum, 55 characters, checksum valid', (t) => {
  t.is(SECRET_LENGTH, 55);
  const n = 5000;
  for (let i = 0; i < n; i++) {
    const secret = generateSecretKey();
    t.is(secret.length, 55);
    t.true(secret.startsWith(SECRET_PREFIX));
    for (const c of secret.slice(5)) if (!BASE62.includes(c)) t.fail(`${c} outside base62`);
    // The checksum is recomputed here from its definition, not taken from the module.
    t.is(secret.slice(-6), base62Fixed(crc32(secret.slice(0, -6)), 6));
    t.true(isWellFormedSecret(secret));
  }
  t.log(`${n} secrets checked`);
});

test('at least 256 random bits in a secret (44 base62 characters)', (t) => {
  t.true(44 * Math.log2(62) >= 256);
});

test('ids and secrets do not repeat', (t) => {
  const n = 20_000;
  const ids = new Set<string>();
  const secrets = new Set<string>();
  for (let i = 0; i < n; i++) {
    ids.add(generateAccessKeyId());
    secrets.add(generateSecretKey());
  }
  t.is(ids.size, n);
  t.is(secrets.size, n);
  t.log(`${n} ids and ${n} secrets, no duplicate`);
});

test('isAccessKeyId refuses near misses', (t) => {
  const good = generateAccessKeyId();
  for (const bad of [
    '',
    good.toLowerCase(),
    good.slice(0, 19),
    `${good}A`,
    `AKN${good.slice(3)}`,
    `${good.slice(0, 19)}1`,
    `${good.slice(0, 19)}8`,
    ` ${good}`,
    `${good}\n`,
  ]) {
    t.false(isAccessKeyId(bad), JSON.stringify(bad));
  }
});

test('isWellFormedSecret refuses wrong prefix, length, alphabet and checksum', (t) => {
  const good = generateSecretKey();
  const cases = [
    '',
    good.slice(0, -1),
    `${good}0`,
    `akmt_${good.slice(5)}`,
    `AKMS_${good.slice(5)}`,
    `${good.slice(0, 10)}-${good.slice(11)}`,
    `${good.slice(0, 10)}é${good.slice(11)}`,
    `${good} `,
    // a checksum that is right for another body
    `${good.slice(0, -6)}${base62Fixed(crc32(good.slice(0, -6)) ^ 1, 6)}`,
  ];
  for (const bad of cases) t.false(isWellFormedSecret(bad), JSON.stringify(bad));
});

test('crc32 matches the IEEE check value', (t) => {
  t.is(crc32('123456789'), 0xcbf43926);
  t.is(crc32(''), 0);
});

test('base62Fixed is fixed-width and injective over 32 bits', (t) => {
  t.is(base62Fixed(0, 6), '000000');
  t.is(base62Fixed(61, 6), '00000z');
  t.is(base62Fixed(62, 6), '000010');
  const decode = (s: string) => [...s].reduce((acc, c) => acc * 62 + BASE62.indexOf(c), 0);
  for (const v of [1, 0x7fffffff, 0x80000000, 0xffffffff, 123456789]) {
    const text = base62Fixed(v, 6);
    t.is(text.length, 6);
    t.is(decode(text), v);
  }
});

test('randomString rejects biased bytes (rejection sampling)', (t) => {
  // 256 % 62 = 8: bytes 248..255 must be skipped, not folded onto the first 8 characters.
  const feed = Buffer.from([255, 248, 0, 249, 61, 250, 62, 1]);
  let calls = 0;
  const out = randomString(BASE62, 4, (n) => {
    calls++;
    return Buffer.concat([feed, Buffer.alloc(Math.max(0, n - feed.length), 7)]).subarray(0, n);
  });
  t.is(out, `${BASE62[0]}${BASE62[61]}${BASE62[0]}${BASE62[1]}`);
  t.is(calls, 1);
});

test('randomString keeps drawing when a whole batch is rejected', (t) => {
  let calls = 0;
  const out = randomString(BASE32, 5, (n) => {
    calls++;
    return Buffer.alloc(n, calls < 3 ? 0xff : 1);
  });
  // 256 % 32 = 0: no byte is rejected for base32, so 0xff maps to '7'
  t.is(out, '77777');
  const out62 = randomString(BASE62, 3, (n) => {
    calls++;
    return Buffer.alloc(n, calls < 6 ? 0xff : 2);
  });
  t.is(out62, '222');
});

test('randomString is uniform over base62 (chi-square, no modulo bias)', (t) => {
  const n = 248_000;
  const text = randomString(BASE62, n);
  const counts = new Map<string, number>();
  for (const c of text) counts.set(c, (counts.get(c) ?? 0) + 1);
  t.is(counts.size, 62);
  const expected = n / 62;
  let chi = 0;
  for (const c of BASE62) chi += ((counts.get(c) ?? 0) - expected) ** 2 / expected;
  // df = 61; P(chi² > 140) < 1e-7. A `byte % 62` generator scores in the thousands here.
  t.log(`chi-square over ${n} characters: ${chi.toFixed(1)} (df 61)`);
  t.true(chi < 140, `chi-square ${chi}`);
});
