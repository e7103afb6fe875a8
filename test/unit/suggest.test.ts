import test from 'ava';
import fc from 'fast-check';
import { didYouMean, editDistance, suggest } from '../../src/core/suggest.js';
import { checkProperty } from '../helpers/property.js';

const COMMANDS = ['init', 'create', 'list', 'show', 'extend', 'assign', 'rotate', 'copy', 'delete', 'verify', 'users'];

test('the typos people make find the command they meant', (t) => {
  t.deepEqual(suggest('creat', COMMANDS), ['create']);
  t.deepEqual(suggest('craete', COMMANDS), ['create'], 'a swap of neighbours is one edit');
  t.deepEqual(suggest('lsit', COMMANDS), ['list']);
  t.deepEqual(suggest('CREATE', COMMANDS), ['create']);
  t.deepEqual(suggest('--expire-in', ['--expires-in', '--expires-on', '--never-expires']), [
    '--expires-in',
    '--expires-on',
  ]);
  t.deepEqual(suggest('frobnicate', COMMANDS), [], 'nothing close: no guess');
  t.deepEqual(suggest('x', COMMANDS), [], 'one letter is too little to guess from');
  t.is(didYouMean('--quite', ['--quiet', '--json']), 'did you mean --quiet?');
  t.is(didYouMean('zzz', COMMANDS), undefined);
});

test('edit distance: known values, and the properties of a distance', (t) => {
  t.is(editDistance('', 'abc'), 3);
  t.is(editDistance('kitten', 'sitting'), 3);
  t.is(editDistance('ab', 'ba'), 1);
  t.is(editDistance('ca', 'abc'), 3, 'optimal string alignment: no edit of a swapped pair');
  const word = fc.string({ maxLength: 12 });
  checkProperty(
    t,
    'edit distance',
    fc.property(word, word, (a, b) => {
      const d = editDistance(a, b);
      return (
        d === editDistance(b, a) &&
        (d === 0) === (a === b) &&
        d <= Math.max(a.length, b.length) &&
        d >= Math.abs(a.length - b.length)
      );
    }),
  );
});

test('suggestions are close, at most three, nearest first', (t) => {
  checkProperty(
    t,
    'suggestions',
    fc.property(
      fc.string({ minLength: 1, maxLength: 10 }),
      fc.array(fc.string({ maxLength: 10 }), { maxLength: 20 }),
      (typed, candidates) => {
        const found = suggest(typed, candidates);
        const bare = (s: string) => s.replace(/^-+/, '').toLowerCase();
        const distances = found.map((c) => editDistance(bare(typed), bare(c)));
        return (
          found.length <= 3 &&
          found.every((c) => candidates.includes(c)) &&
          distances.every((d) => d <= 2) &&
          distances.every((d, i) => i === 0 || distances[i - 1]! <= d)
        );
      },
    ),
  );
});
