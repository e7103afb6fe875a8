/**
 * Tables as drawn on a terminal of any width: every line fits (dates give up their relative
 * form, columns are cut or left out), and --wide or a pipe shows every cell whole.
 */
import test from 'ava';
import fc from 'fast-check';
import { stripVTControlCharacters } from 'node:util';
import { renderFields, renderTable, type Cell, type Column } from '../../src/cli/io/table.js';
import { displayWidth } from '../../src/cli/io/width.js';
import { auditTable } from '../../src/cli/render/audit.js';
import { keyTable } from '../../src/cli/render/keys.js';
import type { KeyView } from '../../src/service/types.js';
import { testIo } from '../helpers/io.js';
import { checkProperty } from '../helpers/property.js';

const NOW = new Date('2026-12-01T12:00:00Z');

// Words as people and programs write them: ASCII, accents, CJK (two cells each), an emoji.
const word = fc.oneof(
  fc.stringMatching(/^[a-z0-9@.-]{1,24}$/),
  fc.constantFrom('naïve', 'café-Ω', '鍵の名前', '데이터', '🔑key', 'deploy-pipeline-production'),
);
const text = fc.array(word, { minLength: 1, maxLength: 3 }).map((words) => words.join(' '));
const cell: fc.Arbitrary<Cell> = fc.oneof(
  text,
  fc.tuple(text, text).map(([short, extra]) => ({ text: `${short} (${extra})`, short })),
);
const column: fc.Arbitrary<Column> = fc.record(
  {
    header: fc.stringMatching(/^[A-Z]{2,14}$/),
    drop: fc.constantFrom<Column['drop']>('early', 'late', undefined),
    shrinkTo: fc.integer({ min: 4, max: 24 }),
  },
  { requiredKeys: ['header'] },
);
const table = fc
  .array(column, { minLength: 1, maxLength: 9 })
  .chain((columns) =>
    fc.tuple(
      fc.constant(columns),
      fc.array(fc.array(cell, { minLength: columns.length, maxLength: columns.length }), { maxLength: 6 }),
    ),
  );

test('property: on a terminal 40 to 200 columns wide every line of every table fits', (t) => {
  checkProperty(
    t,
    'table lines fit',
    fc.property(table, fc.integer({ min: 40, max: 200 }), fc.boolean(), ([columns, rows], width, colour) => {
      const { io } = testIo({ tty: true, columns: width, env: colour ? { FORCE_COLOR: '1' } : {} });
      const lines = renderTable(io, columns, rows).split('\n');
      const over = lines.find((line) => displayWidth(line) > width);
      if (over !== undefined) throw new Error(`${displayWidth(over)} > ${width}: ${JSON.stringify(over)}`);
      return true;
    }),
  );
});

test('property: --wide and a pipe show every cell whole, in its full form', (t) => {
  checkProperty(
    t,
    'tables whole',
    fc.property(table, fc.integer({ min: 40, max: 200 }), fc.boolean(), ([columns, rows], width, wide) => {
      const { io } = wide ? testIo({ tty: true, columns: width, wide: true }) : testIo({ tty: false });
      const lines = renderTable(io, columns, rows).split('\n').map(stripVTControlCharacters);
      if (lines[0]!.includes('…') && !columns.some((c) => c.header.includes('…'))) return false;
      return rows.every((row, r) => row.every((c) => lines[r + 1]!.includes(typeof c === 'string' ? c : c.text)));
    }),
  );
});

function key(name: string, expiresInDays: number): KeyView {
  const at = NOW.toISOString();
  return {
    accessKeyId: `AKM${name.length.toString().padStart(17, 'A')}`.slice(0, 20),
    name,
    description: '',
    type: 'access',
    status: 'active',
    tenantId: 'acme',
    owner: 'admin@acme.test',
    groups: [],
    roles: [],
    createdAt: at,
    createdBy: 'admin@acme.test',
    modifiedAt: at,
    modifiedBy: 'admin@acme.test',
    expiresAt: new Date(NOW.getTime() + expiresInDays * 86_400_000).toISOString(),
    lastUsedAt: null,
    canary: false,
    inactiveUntil: null,
    secretCreatedAt: at,
  };
}

test('akm list at 60 columns: the date gives up "(in 2 days)" rather than overflow', (t) => {
  const keys = [key('deploy-pipeline-production-1', 2), key('ci', 90)];
  const { io } = testIo({ tty: true, columns: 60 });
  const lines = keyTable(io, keys, NOW).split('\n');
  for (const line of lines) t.true(displayWidth(line) <= 60, `fits 60 columns: ${JSON.stringify(line)}`);
  t.regex(lines[0]!, /^ACCESS KEY ID\s+NAME\s+STATUS\s+EXPIRES$/);
  t.notRegex(lines.join('\n'), /\(in 2 days\)/);
  const roomy = keyTable(testIo({ tty: true, columns: 120 }).io, keys, NOW);
  t.regex(roomy, /\d\d:\d\d \(in 2 days\)/, 'with room the relative form stays');
});

test('a field block wraps long values under themselves on a terminal; piped, one line each', (t) => {
  const fields: Array<[string, string]> = [
    ['created', '2026-12-01 18:48 (9 minutes ago) by someone.with.a.long.address@acme.test'],
    ['credentials', 'none needed: local store (acting as the operator named at init)'],
  ];
  const shown = renderFields(testIo({ tty: true, columns: 60 }).io, fields).split('\n');
  for (const line of shown) t.true(displayWidth(line) <= 60, line);
  t.deepEqual(shown.slice(0, 2), [
    'created      2026-12-01 18:48 (9 minutes ago) by',
    `${' '.repeat(13)}someone.with.a.long.address@acme.test`,
  ]);
  t.is(renderFields(testIo({ tty: false }).io, fields).split('\n').length, 2);
  t.is(renderFields(testIo({ tty: true, columns: 60, wide: true }).io, fields).split('\n').length, 2, '--wide');
});

test('a brownout at 64 columns: "inactive (brownout)" becomes "inactive" before EXPIRES goes', (t) => {
  const browned = {
    ...key('deploy-pipeline-production-1', 30),
    status: 'inactive' as const,
    inactiveUntil: new Date(NOW.getTime() + 7_200_000).toISOString(),
  };
  const narrow = keyTable(testIo({ tty: true, columns: 64 }).io, [browned], NOW).split('\n');
  t.regex(narrow[0]!, /^ACCESS KEY ID\s+NAME\s+STATUS\s+EXPIRES$/);
  t.regex(narrow[1]!, /\sinactive\s+\d{4}-\d\d-\d\d \d\d:\d\d$/);
  t.regex(keyTable(testIo({ tty: true, columns: 120 }).io, [browned], NOW), /inactive \(brownout\)/);
});

test('the audit trail keeps access key ids whole at 80 columns: the details give way', (t) => {
  const record = {
    seq: 7,
    at: NOW.toISOString(),
    tenantId: 'acme',
    actor: 'admin@acme.test',
    action: 'key.deactivate',
    target: 'AKMPOZUOHDFJD5CYQF5R',
    details: { name: 'ci', from: 'active', to: 'inactive' },
    source: 'cli:root@build-host',
  };
  const narrow = auditTable(testIo({ tty: true, columns: 80 }).io, [record], NOW).split('\n');
  t.regex(narrow[1]!, /\sAKMPOZUOHDFJD5CYQF5R$/);
  const roomy = auditTable(testIo({ tty: true, columns: 160 }).io, [record], NOW);
  t.regex(roomy, /AKMPOZUOHDFJD5CYQF5R\s+name=ci from=active to=inactive\s+root@build-host/);
});
