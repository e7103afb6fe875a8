/** CSV as RFC 4180 writes it, read back by a real CSV parser (csv-parse); formulas neutralised. */
import test from 'ava';
import { parse } from 'csv-parse/sync';
import fc from 'fast-check';
import { csvCell, csvLine, csvRecord } from '../../src/core/csv.js';
import { checkProperty } from '../helpers/property.js';

const FORMULA = /^[=+\-@\t\r]/;

test('quoting: commas, quotes, CR and LF; quotes doubled; CRLF line ends', (t) => {
  t.is(csvLine(['a', 'b,c', 'say "hi"', 'two\nlines', 'cr\r']), 'a,"b,c","say ""hi""","two\nlines","cr\r"\r\n');
  t.is(csvLine([null, 3, -12, true, ['unused', 'inactive']]), ',3,-12,true,unused;inactive\r\n');
});

test('a text cell a spreadsheet would run gets a leading apostrophe; numbers stay numbers', (t) => {
  t.is(csvCell('=HYPERLINK("http://evil","x")'), `"'=HYPERLINK(""http://evil"",""x"")"`);
  t.is(csvCell('+1'), "'+1");
  t.is(csvCell('-cmd'), "'-cmd");
  t.is(csvCell('@SUM(A1)'), "'@SUM(A1)");
  t.is(csvCell('\tx'), "'\tx");
  t.is(csvCell(-3), '-3');
  t.is(csvCell('a=b'), 'a=b');
});

test('any record survives a round trip through csv-parse (property)', (t) => {
  const text = fc.string({
    unit: fc.oneof(
      fc.constantFrom(',', '"', '\r', '\n', '=', '-', '+', '@', '\t', ' '),
      fc.string({ unit: 'grapheme', maxLength: 1 }),
      fc.string({ unit: 'binary', maxLength: 1 }),
    ),
  });
  checkProperty(
    t,
    'csv round trip',
    fc.property(fc.array(fc.array(text, { minLength: 3, maxLength: 3 }), { maxLength: 20 }), (rows) => {
      const columns = ['accessKeyId', 'name', 'description'] as const;
      const csv =
        csvLine([...columns]) +
        rows.map((r) => csvRecord({ accessKeyId: r[0]!, name: r[1]!, description: r[2]! }, columns)).join('');
      const parsed = parse<Record<string, string>>(csv, { columns: true, record_delimiter: '\r\n' });
      return (
        parsed.length === rows.length &&
        parsed.every((record, i) =>
          columns.every((c, j) => {
            const original = rows[i]![j]!;
            return record[c] === (FORMULA.test(original) ? `'${original}` : original);
          }),
        )
      );
    }),
  );
});
