/**
 * Messages wrapped to the terminal: at word boundaries, under their label, and never through
 * a command that a person would copy.
 */
import test from 'ava';
import fc from 'fast-check';
import { displayWidth } from '../../src/cli/io/width.js';
import { wrapText } from '../../src/cli/io/wrap.js';
import { checkProperty } from '../helpers/property.js';

const word = fc.oneof(
  fc.stringMatching(/^[a-z]{1,12}$/),
  fc.constantFrom('café', '鍵の名前', 'admin@acme.test', '(2/2)', 'it;'),
);
const command = fc
  .array(fc.constantFrom('list', '--owner', 'x@acme.test', 'delete', '<key>', '--for', '2h', '--store', '/tmp/a.db'), {
    minLength: 1,
    maxLength: 8,
  })
  .map((words) => `akm ${words.join(' ')}`);
const sentence = fc
  .array(fc.oneof({ weight: 4, arbitrary: word }, { weight: 1, arbitrary: command.map((c) => `${c};`) }), {
    minLength: 1,
    maxLength: 40,
  })
  .chain((parts) => fc.tuple(fc.constantFrom('error: ', 'hint: ', 'warning: ', '! ', '  ', ''), fc.constant(parts)));

test('property: lines fit, words and commands stay whole, and nothing is lost or added', (t) => {
  checkProperty(
    t,
    'wrap',
    fc.property(sentence, fc.integer({ min: 40, max: 200 }), ([label, parts], width) => {
      const original = label + parts.join(' ');
      const wrapped = wrapText(original, width);
      const lines = wrapped.split('\n');
      const commands = parts.filter((p) => p.startsWith('akm '));
      for (const line of lines) {
        // a line may overflow only when it holds one unit that is wider by itself (a long command)
        const body = line.trim().replace(/^(error|hint|warning):\s|^!\s/, '');
        if (displayWidth(line) > width && !commands.includes(body)) throw new Error(`too wide: ${line}`);
      }
      for (const c of commands) if (!lines.some((l) => l.includes(c))) throw new Error(`command broken: ${c}`);
      const indent = ' '.repeat(label.trimEnd().length + (label.trim() === '' ? 0 : 1));
      const rejoined = lines.map((l, i) => (i === 0 ? l : l.slice(label.trim() === '' ? label.length : indent.length)));
      return (
        rejoined.join(' ') === original && lines.slice(1).every((l) => l.startsWith(label.trim() ? indent : label))
      );
    }),
  );
});

test('a hint wraps under its label, each command on one line', (t) => {
  const hint =
    'hint: delete one first (akm list --owner admin@acme.test; akm delete <key>), or rotate an existing key instead';
  t.is(
    wrapText(hint, 60),
    [
      'hint: delete one first (akm list --owner admin@acme.test;',
      '      akm delete <key>), or rotate an existing key instead',
    ].join('\n'),
  );
  t.is(wrapText(hint, 200), hint, 'a line that fits is left alone');
  t.is(wrapText('  akm create --name first-key --owner admin@acme.test --expires-in 90', 40).split('\n').length, 1);
});

test('coloured labels count as their letters, not their escape codes', (t) => {
  const warning = `\u001b[33mwarning:\u001b[39m ${'word '.repeat(20).trim()}`;
  const lines = wrapText(warning, 40).split('\n');
  t.true(lines.length > 1);
  for (const line of lines) t.true(displayWidth(line) <= 40, line);
  t.true(lines[1]!.startsWith(' '.repeat(9) + 'word'), 'continuation under the text, past "warning: "');
});
