import test from 'ava';
import fc from 'fast-check';
import { UsageError } from '../../src/core/errors.js';
import {
  displayName,
  email,
  entityName,
  MAX_NAME_LENGTH,
  permission,
  printable,
  tenantId,
} from '../../src/core/validate.js';
import { INVISIBLE } from '../helpers/invisible.js';
import { checkProperty } from '../helpers/property.js';

function refused(t: import('ava').ExecutionContext, fn: () => unknown, label: string): UsageError {
  const error = t.throws<UsageError>(fn, { instanceOf: UsageError }, label);
  t.is(error.exitCode, 2);
  return error;
}

test('entityName trims, normalises and keeps ordinary names', (t) => {
  t.is(entityName('  ci-deploy '), 'ci-deploy');
  t.is(entityName('Café'), 'Café'.normalize('NFC'));
  t.is(entityName('Cafe\u0301'), 'Café'.normalize('NFC'));
  t.is(entityName('x'.repeat(MAX_NAME_LENGTH)).length, 64);
  t.is(entityName('名前 with spaces'), '名前 with spaces');
});

test('entityName refuses empty, over-long, control characters, escape sequences, leading dash and id look-alikes', (t) => {
  const cases: Array<[string, RegExp]> = [
    ['', /empty/],
    ['   ', /empty/],
    ['x'.repeat(MAX_NAME_LENGTH + 1), /too long/],
    ['\u001b[31mred\u001b[0m', /control/],
    ['\u001b]0;title\u0007', /control/],
    ['tab\there', /control/],
    ['new\nline', /control/],
    ['carriage\rreturn', /control/],
    ['nul\u0000byte', /control/],
    ['del\u007f', /control/],
    ['c1\u009bcsi', /control/],
    ['bidi\u202eevil', /control/],
    ['zero\u200bwidth', /control/],
    ['b\ufeffom', /control/],
    ['-rf', /start with "-"/],
    ['--owner=admin@acme.test', /start with "-"/],
    ['AKMAAAAAAAAAAAAAAAAA', /access key id/],
  ];
  for (const [text, pattern] of cases) {
    const error = refused(t, () => entityName(text, 'key name'), JSON.stringify(text));
    t.regex(error.message, pattern, JSON.stringify(text));
    t.true(error.message.startsWith('key name'), error.message);
    // the refusal itself must not carry the raw control characters to the terminal
    t.false(/[\u0000-\u001f\u007f-\u009f]/.test(error.message + (error.hint ?? '')), JSON.stringify(error.message));
  }
  t.log(`${cases.length} bad names refused`);
});

test('email: lower-cased, refused when malformed, and the refusal is printable', (t) => {
  t.is(email(' Admin@Acme.Test '), 'admin@acme.test');
  t.is(email('a.b+c@sub.example.org'), 'a.b+c@sub.example.org');
  for (const bad of [
    '',
    'admin',
    '@acme.test',
    'admin@',
    'a b@acme.test',
    'admin@acme..test',
    'admin@-acme.test',
    `${'a'.repeat(65)}@acme.test`,
    `a@${'b'.repeat(250)}.test`,
    'admin@acme.test\u001b[2J',
    '<admin@acme.test>',
  ]) {
    const error = refused(t, () => email(bad), JSON.stringify(bad));
    t.false(/[\u0000-\u001f]/.test(error.message), error.message);
  }
});

test('reproduction 9 (unit): an invisible or control character anywhere in an address is refused', (t) => {
  const valid = fc.constantFrom('alice@acme.test', 'ops+ci@sub.acme.test', 'zoë@bücher.de', '用户@例子.广告', 'a@b');
  checkProperty(
    t,
    'e-mail with one invisible character',
    fc.property(valid, fc.constantFrom(...INVISIBLE), fc.nat(), (address, bad, at) => {
      const i = at % (address.length + 1);
      const text = address.slice(0, i) + bad + address.slice(i);
      // Plain spaces, tabs and newlines at the very ends are what a paste adds: those are trimmed.
      if (/^[ \t\r\n]/.test(text) || /[ \t\r\n]$/.test(text)) return;
      let refusedIt = false;
      try {
        email(text);
      } catch (error) {
        refusedIt = error instanceof UsageError && !/[\u0000-\u001f\u007f-\u009f]/.test(error.message);
      }
      if (!refusedIt) throw new Error(`accepted or badly refused: ${JSON.stringify(text)}`);
    }),
  );
});

test('email: one grammar; IDNA domains kept in Unicode form, both spellings one address', (t) => {
  t.is(email('ops@bücher.de'), 'ops@bücher.de');
  t.is(email('Ops@XN--BCHER-KVA.de'), 'ops@bücher.de');
  t.is(email('Zoë@Bücher.DE'), 'zoë@bücher.de');
  t.is(email('用户@例子.广告'), '用户@例子.广告');
  t.is(email("o'brien.x_y-z!#$%&*+/=?^`{|}~@acme.test"), "o'brien.x_y-z!#$%&*+/=?^`{|}~@acme.test");
  t.is(email(' admin@acme.test\n'), 'admin@acme.test', 'what a paste adds at the ends');
  for (const bad of [
    'ａdmin@ａcme.test', // full-width letters in the domain: IDNA would map them to other ones
    'a..b@acme.test',
    '.a@acme.test',
    'a.@acme.test',
    '"quoted"@acme.test',
    'a(comment)@acme.test',
    'a@acme.test.',
    'a@xn--zz.test',
    'a@exa_mple.test',
    `${'é'.repeat(33)}@acme.test`, // 66 bytes
    'a@b@acme.test',
  ])
    refused(t, () => email(bad), JSON.stringify(bad));
});

test('tenantId: 1-32 lower-case letters, digits and inner dashes', (t) => {
  t.is(tenantId('acme'), 'acme');
  t.is(tenantId('a'), 'a');
  t.is(tenantId('a'.repeat(32)), 'a'.repeat(32));
  for (const bad of ['', 'Acme', '-acme', 'acme-', 'a'.repeat(33), 'ac me', 'acme_1', 'acmé'])
    refused(t, () => tenantId(bad), JSON.stringify(bad));
});

test('displayName: up to 128 printable characters', (t) => {
  t.is(displayName(' Ada Lovelace '), 'Ada Lovelace');
  t.is(displayName(''), '');
  refused(t, () => displayName('x'.repeat(129)), 'long');
  refused(t, () => displayName('Ada\u001b[8m'), 'escape');
});

test('permission: resource:action, wildcards, or *', (t) => {
  for (const ok of ['*', 'keys:read', 'keys:*', 'data:ingest', 'deploy:run', 'x-y:z-1'])
    t.is(permission(` ${ok} `), ok);
  for (const bad of [
    '',
    'keys',
    'keys:',
    ':read',
    'Keys:read',
    'keys:read:extra',
    '*:read',
    'keys: read',
    'k'.repeat(33) + ':read',
  ]) {
    refused(t, () => permission(bad), JSON.stringify(bad));
  }
});

test('printable neutralises every control and invisible character and caps the length', (t) => {
  t.is(printable('plain name'), 'plain name');
  t.is(printable('\u001b[31mred'), '\\x1b[31mred');
  t.is(printable('a\nb\tc\u0000'), 'a\\x0ab\\x09c\\x00');
  t.is(printable('\u202eevil'), '\\u202eevil');
  t.is(printable('\u009b2J'), '\\x9b2J');
  t.is(printable('x'.repeat(300)).length, 201);
  t.true(printable('x'.repeat(300)).endsWith('…'));
  t.is(printable('x'.repeat(10), 5), 'xxxxx…');
  for (let code = 0; code < 0x100; code++) {
    const out = printable(`a${String.fromCharCode(code)}b`);
    t.false(/[\u0000-\u001f\u007f-\u009f]/.test(out), `U+${code.toString(16)} leaks through`);
  }
});
