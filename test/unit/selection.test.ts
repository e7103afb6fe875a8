/** Choosing keys: name globs, the key lists bulk commands read on stdin, --sort and --columns. */
import test from 'ava';
import fc from 'fast-check';
import { UsageError } from '../../src/core/errors.js';
import { globMatcher } from '../../src/core/glob.js';
import { KEY_FIELDS, parseColumns, parseSort } from '../../src/core/keyFields.js';
import { MAX_BULK_KEYS, parseKeyRefs } from '../../src/core/keyRefs.js';
import { checkProperty } from '../helpers/property.js';

/** A reference matcher written apart from the code: plain recursion over the pattern. */
function reference(pattern: string, name: string): boolean {
  const p = [...pattern];
  const n = [...name.toLowerCase()];
  const match = (i: number, j: number): boolean => {
    if (i === p.length) return j === n.length;
    if (p[i] === '*') return match(i + 1, j) || (j < n.length && match(i, j + 1));
    if (j === n.length) return false;
    if (p[i] === '?') return match(i + 1, j + 1);
    if (p[i] === '\\' && i + 1 < p.length) return p[i + 1]!.toLowerCase() === n[j] && match(i + 2, j + 1);
    return p[i]!.toLowerCase() === n[j] && match(i + 1, j + 1);
  };
  return match(0, 0);
}

test('globs: * ? sets and escapes, the whole name, any case', (t) => {
  const cases: Array<[string, string, boolean]> = [
    ['ci-*', 'ci-deploy', true],
    ['ci-*', 'CI-Deploy', true],
    ['ci-*', 'my-ci-deploy', false],
    ['*bot', 'deploy-bot', true],
    ['?ot', 'bot', true],
    ['?ot', 'boot', false],
    ['key[12]', 'key2', true],
    ['key[12]', 'key3', false],
    ['key[!12]', 'key3', true],
    ['key[a-c]', 'keyB', true],
    ['key[]]', 'key]', true],
    ['a\\*b', 'a*b', true],
    ['a\\*b', 'axb', false],
    ['a.b', 'axb', false],
    ['(x)|y', '(x)|y', true],
    ['名前*', '名前 with spaces', true],
  ];
  for (const [pattern, name, expected] of cases) t.is(globMatcher(pattern)(name), expected, `${pattern} ~ ${name}`);
  t.throws(() => globMatcher('key[ab'), { instanceOf: UsageError, message: /unclosed/ });
  t.throws(() => globMatcher(''), { instanceOf: UsageError });
  t.throws(() => globMatcher('*'.repeat(257)), { instanceOf: UsageError, message: /too long/ });
});

test('globs without sets agree with a reference matcher (property)', (t) => {
  const unit = fc.constantFrom('a', 'b', 'A', '-', '.', '*', '?', '\\', '(', '+', 'é');
  checkProperty(
    t,
    'glob vs reference',
    fc.property(
      fc.string({ unit, maxLength: 8 }),
      fc.string({ unit: fc.constantFrom('a', 'b', 'B', '-', '.', '*', '(', '+', 'é'), maxLength: 10 }),
      (pattern, name) => {
        if (pattern.length === 0) return true;
        return globMatcher(pattern)(name) === reference(pattern, name);
      },
    ),
  );
});

const ID = fc.stringMatching(/^AKM[A-Z2-7]{17}$/);

test('stdin: the JSON array, NDJSON and plain ids read alike, each key once, in order (property)', (t) => {
  checkProperty(
    t,
    'three formats',
    fc.property(fc.array(ID, { minLength: 1, maxLength: 30 }), (ids) => {
      const keys = ids.map((accessKeyId) => ({ accessKeyId, name: 'x', status: 'active' }));
      const expected = [...new Set(ids)];
      const forms = [
        JSON.stringify(keys, null, 2),
        `[\n  ${keys.map((k) => JSON.stringify(k)).join(',\n  ')}\n]\n`,
        JSON.stringify(ids),
        keys.map((k) => JSON.stringify(k)).join('\n') + '\n',
        ids.join('\r\n') + '\r\n',
        `\n${ids.map((id) => `  ${id}  `).join('\n\n')}\n`,
      ];
      return forms.every((text) => JSON.stringify(parseKeyRefs(text)) === JSON.stringify(expected));
    }),
  );
});

test('stdin: names pass through as plain lines; nothing is no keys; bad JSON, objects without an id and too many are refused', (t) => {
  t.deepEqual(parseKeyRefs('deploy bot\nold-laptop\n'), ['deploy bot', 'old-laptop']);
  t.deepEqual(parseKeyRefs('[]'), []);
  t.deepEqual(parseKeyRefs('  \n \n'), []);
  const refused = (text: string, message: RegExp, code: UsageError['code']) => {
    const error = t.throws<UsageError>(() => parseKeyRefs(text), { instanceOf: UsageError });
    t.regex(error.message, message);
    t.is(error.code, code);
    t.is(error.exitCode, 2);
  };
  refused('[{"accessKeyId": "AKM', /not valid JSON/, 'invalid_key_list');
  refused('[{"name": "x"}]', /item 1 has no accessKeyId/, 'invalid_key_list');
  refused('{"accessKeyId":"AKMAAAAAAAAAAAAAAAAA"}\n{"oops"', /line 2 is not valid JSON/, 'invalid_key_list');
  refused('{"a":1}', /not a JSON array|no accessKeyId/, 'invalid_key_list');
  const many = Array.from({ length: MAX_BULK_KEYS + 1 }, (_, i) => `key-${i}`).join('\n');
  refused(many, /10,001 keys is more than the 10,000/, 'too_many_keys');
  t.is(parseKeyRefs(Array.from({ length: MAX_BULK_KEYS }, (_, i) => `key-${i}`).join('\n')).length, MAX_BULK_KEYS);
});

test('--sort FIELD[:desc] and --columns take JSON field names, with a suggestion for a typo', (t) => {
  t.deepEqual(parseSort('expiresAt'), { field: 'expiresAt', descending: false });
  t.deepEqual(parseSort('expiresAt:desc'), { field: 'expiresAt', descending: true });
  t.deepEqual(parseSort('name:asc'), { field: 'name', descending: false });
  t.throws(() => parseSort('expiresat'), { message: /--sort: "expiresat" is not one of accessKeyId, / });
  const typo = t.throws<UsageError>(() => parseSort('expireAt:desc'));
  t.is(typo.hint, 'did you mean expiresAt?');
  t.throws(() => parseSort('groups'), { message: /"groups" is not one of/ }, 'lists do not sort');
  t.throws(() => parseSort('name:down'), { message: /FIELD or FIELD:desc/ });
  t.deepEqual(parseColumns('accessKeyId, name,expiresAt,name', KEY_FIELDS), ['accessKeyId', 'name', 'expiresAt']);
  t.is(t.throws<UsageError>(() => parseColumns('acessKeyId', KEY_FIELDS)).hint, 'did you mean accessKeyId?');
  t.throws(() => parseColumns(' , ', KEY_FIELDS), { message: /at least one field/ });
});
