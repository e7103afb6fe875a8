import test from 'ava';
import fc from 'fast-check';
import { fitColumns } from '../../src/cli/io/table.js';
import { displayWidth } from '../../src/cli/io/width.js';
import { KEY_COLUMNS } from '../../src/cli/render/keys.js';
import { checkProperty } from '../helpers/property.js';

const KEYS = KEY_COLUMNS;
const headers = (shown: number[]) => shown.map((i) => KEYS[i]!.header);

test('low-value columns go first, then long cells are cut, then the late column goes', (t) => {
  const natural = [20, 40, 6, 8, 40, 28, 16];
  t.deepEqual(headers(fitColumns(KEYS, natural, 500).shown), headers([0, 1, 2, 3, 4, 5, 6]), 'room for all');
  const medium = fitColumns(KEYS, natural, 120);
  t.deepEqual(headers(medium.shown), ['ACCESS KEY ID', 'NAME', 'STATUS', 'OWNER', 'EXPIRES']);
  t.true(medium.widths[1]! < 40 && medium.widths[4]! < 40, 'names and owners cut');
  const narrow = fitColumns(KEYS, natural, 80);
  t.deepEqual(headers(narrow.shown), ['ACCESS KEY ID', 'NAME', 'STATUS', 'EXPIRES']);
  t.is(narrow.widths[0], 20, 'the id is never cut');
});

test('property: a fitted table fits the limit; the columns never dropped stay while their floors fit', (t) => {
  checkProperty(
    t,
    'table fit',
    fc.property(
      fc.array(fc.integer({ min: 1, max: 80 }), { minLength: 7, maxLength: 7 }),
      fc.integer({ min: 20, max: 300 }),
      (cells, limit) => {
        const natural = cells.map((c, i) => Math.max(c, KEYS[i]!.header.length));
        const { shown, widths } = fitColumns(KEYS, natural, limit);
        const width = shown.reduce((sum, i) => sum + widths[i]!, 0) + 2 * (shown.length - 1);
        const kept = [0, 1, 3, 5]; // the columns that are never dropped for want of room alone
        const floor = (i: number) =>
          Math.min(natural[i]!, Math.max(KEYS[i]!.shrinkTo ?? Infinity, KEYS[i]!.header.length));
        const keptFit = kept.reduce((sum, i) => sum + floor(i), 0) + 2 * (kept.length - 1) <= limit;
        return (
          width <= limit &&
          shown.every((i) => widths[i]! <= natural[i]!) &&
          (shown.length === 1 || shown.every((i) => widths[i]! >= KEYS[i]!.header.length)) && // no split header
          (!keptFit || kept.every((i) => shown.includes(i)))
        );
      },
    ),
  );
});

test('short forms are used only when cutting to the floors is not enough', (t) => {
  const natural = [20, 12, 6, 27];
  const compact = [20, 12, 6, 16];
  const columns = [KEYS[0]!, KEYS[1]!, KEYS[3]!, KEYS[5]!];
  t.deepEqual([...fitColumns(columns, natural, 80, compact).short], [], 'room for "(in 2 days)"');
  const narrow = fitColumns(columns, natural, 60, compact);
  t.deepEqual([...narrow.short], [3]);
  t.deepEqual(narrow.shown, [0, 1, 2, 3]);
  const tiny = fitColumns(columns, natural, 40, compact);
  t.deepEqual(tiny.shown, [0, 1], 'a very narrow terminal keeps the id and what fits beside it');
});

test('display width counts terminal cells: colour codes none, wide characters two', (t) => {
  t.is(displayWidth('\u001b[33mactive\u001b[39m'), 6);
  t.is(displayWidth('鍵の名前'), 8);
  t.is(displayWidth('naïve'), 5);
});
