/**
 * Property suites (issue 5 item 3). Seed fixed under CI, printed always; replay a failure with
 * AKM_PROPERTY_SEED=<seed>; scale with AKM_PROPERTY_RUNS.
 */
import test from 'ava';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import fc from 'fast-check';
import { BASE32, BASE62, base62Fixed, crc32, randomString } from '../../src/core/base.js';
import {
  generateAccessKeyId,
  generateSecretKey,
  isAccessKeyId,
  isWellFormedSecret,
} from '../../src/core/credentials.js';
import { UsageError } from '../../src/core/errors.js';
import { parseDays, parseDuration, parseInstant, MAX_GRACE_MS } from '../../src/core/expiry.js';
import { formatKeyString, parseKeyString } from '../../src/core/keyString.js';
import { effectivePermissions, permissionSources } from '../../src/core/permissions.js';
import { printable } from '../../src/core/validate.js';
import { fixture } from '../helpers/children.js';
import { expiryProperties, runExpiryProperties, type PropertyOutcome } from '../helpers/expiryProperties.js';
import { checkProperty, propertyConfig } from '../helpers/property.js';

const config = propertyConfig();
const run = promisify(execFile);

const idArb = fc.string({ unit: fc.constantFrom(...BASE32), minLength: 17, maxLength: 17 }).map((s) => `AKM${s}`);
const secretArb = fc.string({ unit: fc.constantFrom(...BASE62), minLength: 44, maxLength: 44 }).map((s) => {
  const body = `akms_${s}`;
  return body + base62Fixed(crc32(body), 6);
});
const tenantArb = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/);

test('key string: format then parse is the identity, with the tolerated variants', (t) => {
  checkProperty(
    t,
    'key string round-trip',
    fc.property(
      idArb,
      secretArb,
      tenantArb,
      fc.boolean(),
      fc.constantFrom('', '\n', '\r\n', ' \n'),
      (id, secret, tenant, space, trailing) => {
        const text = formatKeyString(id, secret, tenant);
        if (text !== `key:${id}::${secret},tenant id:${tenant}`) return false;
        const variant = space ? text.replace('tenant id:', 'tenant id: ') : text;
        const parts = parseKeyString(variant + trailing);
        return parts.accessKeyId === id && parts.secret === secret && parts.tenantId === tenant && !parts.encrypted;
      },
    ),
    config,
  );
});

test('any one-character change to a secret fails its checksum, before any lookup', (t) => {
  const anyChar = fc.oneof(
    fc.constantFrom(...BASE62, '_', '-', ' ', ',', ':'),
    fc.string({ unit: 'binary', minLength: 1, maxLength: 1 }),
  );
  checkProperty(
    t,
    'one-character change',
    fc.property(
      secretArb,
      idArb,
      fc.nat(54),
      anyChar,
      fc.constantFrom('replace', 'delete', 'insert'),
      (secret, id, index, char, how) => {
        let changed: string;
        if (how === 'replace') {
          if (secret[index] === char) return true; // not a change
          changed = secret.slice(0, index) + char + secret.slice(index + 1);
        } else if (how === 'delete') changed = secret.slice(0, index) + secret.slice(index + 1);
        else changed = secret.slice(0, index) + char + secret.slice(index);
        if (isWellFormedSecret(changed)) return false;
        try {
          parseKeyString(formatKeyString(id, changed, 'acme'));
          return false;
        } catch (error) {
          return error instanceof UsageError && error.exitCode === 2;
        }
      },
    ),
    config,
  );
});

test('generated ids and secrets have the promised alphabet and length', (t) => {
  checkProperty(
    t,
    'generated credentials',
    fc.property(fc.constant(null), () => {
      const id = generateAccessKeyId();
      const secret = generateSecretKey();
      return (
        /^AKM[A-Z2-7]{17}$/.test(id) &&
        isAccessKeyId(id) &&
        /^akms_[0-9A-Za-z]{50}$/.test(secret) &&
        isWellFormedSecret(secret) &&
        secret.slice(-6) === base62Fixed(crc32(secret.slice(0, -6)), 6)
      );
    }),
    config,
  );
});

test('randomString yields exactly n characters of the alphabet from any byte source', (t) => {
  checkProperty(
    t,
    'randomString alphabet and length',
    fc.property(
      fc.constantFrom(BASE32, BASE62, 'ab', 'abc'),
      fc.integer({ min: 1, max: 80 }),
      fc.uint8Array({ minLength: 1, maxLength: 64 }),
      (alphabet, n, bytes) => {
        const limit = 256 - (256 % alphabet.length);
        const feed = bytes.some((b) => b < limit) ? Buffer.from(bytes) : Buffer.from([...bytes, 0]);
        let pos = 0;
        const out = randomString(alphabet, n, (k) => {
          const chunk = Buffer.alloc(k);
          for (let i = 0; i < k; i++) chunk[i] = feed[pos++ % feed.length]!;
          return chunk;
        });
        return out.length === n && [...out].every((c) => alphabet.includes(c));
      },
    ),
    config,
  );
});

test('parsers are total: a value in range or a UsageError, never another exception', (t) => {
  const text = fc.oneof(
    fc.string({ maxLength: 40 }),
    fc.string({ unit: 'binary', maxLength: 40 }),
    fc.stringMatching(/^[0-9a-z:+\-. TZ]{0,30}$/),
  );
  checkProperty(
    t,
    'parser totality',
    fc.property(text, (input) => {
      const checks: Array<() => boolean> = [
        () => {
          const d = parseDays(input);
          return Number.isInteger(d) && d >= 1 && d <= 3650;
        },
        () => !Number.isNaN(parseInstant(input).getTime()),
        () => {
          const ms = parseDuration(input);
          return Number.isFinite(ms) && ms > 0 && ms <= MAX_GRACE_MS;
        },
        () => {
          const parts = parseKeyString(input);
          return isAccessKeyId(parts.accessKeyId);
        },
      ];
      for (const check of checks) {
        try {
          if (!check()) return false;
        } catch (error) {
          if (!(error instanceof UsageError)) throw error;
        }
      }
      return true;
    }),
    config,
  );
});

test('printable never lets a control or invisible character through', (t) => {
  checkProperty(
    t,
    'printable',
    fc.property(fc.oneof(fc.string({ unit: 'binary' }), fc.string({ unit: 'grapheme' })), (input) => {
      const out = printable(input, 10_000);
      return !/[\u0000-\u001f\u007f-\u009f\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/.test(out);
    }),
    config,
  );
});

test('permission sources and effective permissions agree', (t) => {
  const perm = fc.constantFrom('*', 'keys:read', 'keys:write', 'audit:read', 'data:ingest', 'deploy:run');
  const grant = fc.record({
    role: fc.constantFrom('A', 'B', 'C'),
    permissions: fc.array(perm, { maxLength: 4 }),
    viaGroup: fc.constantFrom(null, 'G1', 'G2'),
  });
  checkProperty(
    t,
    'permission sources',
    fc.property(fc.array(grant, { maxLength: 8 }), (grants) => {
      const fromSources = [...new Set(permissionSources(grants).map((s) => s.permission))].sort();
      return JSON.stringify(fromSources) === JSON.stringify(effectivePermissions(grants));
    }),
    config,
  );
});

function report(t: import('ava').ExecutionContext, outcomes: PropertyOutcome[]): void {
  for (const o of outcomes) {
    if (o.failed)
      t.fail(`[TZ=${o.tz}] ${o.name}: failed (seed ${o.seed}; replay with AKM_PROPERTY_SEED=${o.seed})\n${o.report}`);
    else t.log(`[TZ=${o.tz}] ${o.name}: ${o.numRuns} runs passed (seed ${o.seed})`);
  }
}

test('expiry arithmetic never yields a past expiry (this process time zone)', (t) => {
  const outcomes = runExpiryProperties(config.seed, config.numRuns);
  t.is(outcomes.length, expiryProperties().length);
  report(t, outcomes);
});

const ZONES = [
  'America/New_York',
  'Europe/London',
  'Australia/Lord_Howe',
  'Pacific/Kiritimati',
  'America/Santiago',
  'Asia/Kolkata',
  'UTC',
];

test('expiry arithmetic never yields a past expiry in other time zones (DST edges, +14:00, half-hour DST)', async (t) => {
  const results = await Promise.all(
    ZONES.map(async (zone) => {
      const { stdout } = await run(
        process.execPath,
        [fixture('expiry-tz'), String(config.seed), String(config.numRuns)],
        {
          env: { ...process.env, TZ: zone },
          timeout: 120_000,
        },
      );
      const outcomes = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as PropertyOutcome);
      return { zone, outcomes };
    }),
  );
  for (const { zone, outcomes } of results) {
    t.is(outcomes.length, expiryProperties().length, zone);
    // the child must really have run in that zone
    t.is(outcomes[0]!.tz, new Intl.DateTimeFormat('en', { timeZone: zone }).resolvedOptions().timeZone, zone);
    report(t, outcomes);
  }
  t.log(`${ZONES.length} zones × ${expiryProperties().length} properties × ${config.numRuns} runs`);
});
