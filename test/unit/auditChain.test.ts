/**
 * The audit chain diagnosis, on chains built in memory: every single tampering of each kind,
 * at every position, is reported as exactly that kind at exactly that record — and nothing else.
 */
import test from 'ava';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import { auditMac, GENESIS_MAC, headTag, type AuditHeadRow, type AuditRow } from '../../src/store/audit.js';
import { diagnoseChain } from '../../src/store/auditDiagnose.js';
import { streamCheck } from '../../src/store/auditVerify.js';
import { checkProperty } from '../helpers/property.js';

const key = randomBytes(32);

function chain(n: number): { rows: AuditRow[]; head: AuditHeadRow } {
  const rows: AuditRow[] = [];
  let prev = GENESIS_MAC;
  for (let seq = 1; seq <= n; seq++) {
    const base = {
      seq,
      tenant_id: 'acme',
      at: new Date(Date.UTC(2026, 4, 1, 0, seq)).toISOString(),
      actor: 'admin@acme.test',
      action: 'key.extend',
      target: `K${seq}`,
      details: JSON.stringify({ i: seq }),
      source: 'test',
      prev_mac: prev,
    };
    const mac = auditMac(key, base);
    rows.push({ ...base, mac });
    prev = mac;
  }
  const last = rows[n - 1]!;
  return { rows, head: { seq: last.seq, mac: last.mac, tag: headTag(key, 'acme', last.seq, last.mac) } };
}

const forged = (seq: number, prev: string): AuditRow => ({
  seq,
  tenant_id: 'acme',
  at: '2026-05-01T00:00:00.000Z',
  actor: 'mallory@evil.test',
  action: 'key.delete',
  target: 'KX',
  details: '{}',
  source: 'test',
  prev_mac: prev,
  mac: randomBytes(32).toString('base64url'),
});

const bySeq = (rows: AuditRow[]) => [...rows].sort((a, b) => a.seq - b.seq);
const shape = (rows: AuditRow[], head: AuditHeadRow | undefined) =>
  diagnoseChain(bySeq(rows), key, head, 'acme')
    .map((p) => `${p.kind}@${p.seq}`)
    .sort();

type Tamper = { kind: string; n: number; k: number; m: number };

/** Apply one tampering to a fresh chain; return the rows and the problems it must produce. */
function tamper({ kind, n, k, m }: Tamper): { rows: AuditRow[]; head: AuditHeadRow; expected: string[] } {
  const { rows, head } = chain(n);
  const at = (seq: number) => rows.find((r) => r.seq === seq)!;
  switch (kind) {
    case 'edit':
      at(k).details = JSON.stringify({ i: 'changed' });
      return { rows, head, expected: [`edited@${k}`] };
    case 'replace': // content and MAC both replaced
      Object.assign(at(k), { actor: 'mallory@evil.test', mac: randomBytes(32).toString('base64url') });
      return { rows, head, expected: [`edited@${k}`] };
    case 'delete':
      return { rows: rows.filter((r) => r.seq !== k), head, expected: [`deleted@${k}`] };
    case 'delete-renumber': {
      const kept = rows.filter((r) => r.seq !== k).map((r) => (r.seq > k ? { ...r, seq: r.seq - 1 } : r));
      return { rows: kept, head, expected: k === n ? [`deleted@${k}`] : [`deleted@${k}`, `reordered@${k}`] };
    }
    case 'insert-end':
      return { rows: [...rows, forged(n + 1, at(n).mac)], head, expected: [`inserted@${n + 1}`] };
    case 'insert-renumber': {
      const shifted = rows.map((r) => (r.seq >= k ? { ...r, seq: r.seq + 1 } : r));
      return {
        rows: [...shifted, forged(k, k === 1 ? GENESIS_MAC : at(k - 1).mac)],
        head,
        expected: [`inserted@${k}`, `reordered@${k + 1}`],
      };
    }
    case 'copy':
      return { rows: [...rows, { ...at(k), seq: n + 1 }], head, expected: [`inserted@${n + 1}`] };
    default: {
      // swap two records' places
      const [a, b] = [Math.min(k, m), Math.max(k, m)];
      const swapped = rows.map((r) => (r.seq === a ? { ...r, seq: b } : r.seq === b ? { ...r, seq: a } : r));
      return { rows: swapped, head, expected: [`reordered@${a}`, `reordered@${b}`] };
    }
  }
}

test('a clean chain has no problems', (t) => {
  for (const n of [1, 2, 5, 40]) {
    const { rows, head } = chain(n);
    t.deepEqual(shape(rows, head), [], `n=${n}`);
  }
});

test('every tampering of every kind at every position is named exactly', (t) => {
  const kinds = ['edit', 'replace', 'delete', 'delete-renumber', 'insert-end', 'insert-renumber', 'copy', 'swap'];
  const tampering = fc
    .record({ kind: fc.constantFrom(...kinds), n: fc.integer({ min: 3, max: 40 }) })
    .chain(({ kind, n }) =>
      fc.record({
        kind: fc.constant(kind),
        n: fc.constant(n),
        k: fc.integer({ min: 1, max: n }),
        m: fc.integer({ min: 1, max: n }),
      }),
    )
    .filter((x) => x.kind !== 'swap' || x.k !== x.m);
  checkProperty(
    t,
    'audit diagnosis',
    fc.property(tampering, (x) => {
      const { rows, head, expected } = tamper(x);
      const found = shape(rows, head);
      if (JSON.stringify(found) !== JSON.stringify([...expected].sort()))
        throw new Error(`${JSON.stringify(x)}: expected ${expected.join(', ')}, found ${found.join(', ')}`);
    }),
  );
});

test('every field a record holds is covered by its MAC: editing any one of them is named', (t) => {
  const fields = ['tenant_id', 'at', 'actor', 'action', 'target', 'details', 'source'] as const;
  const edit = fc.record({
    field: fc.constantFrom(...fields),
    n: fc.integer({ min: 1, max: 12 }),
    k: fc.integer({ min: 1, max: 12 }),
    value: fc.string({ minLength: 1, maxLength: 20 }),
  });
  checkProperty(
    t,
    'each field under the MAC',
    fc.property(edit, ({ field, n, k, value }) => {
      const { rows, head } = chain(n);
      const row = rows[Math.min(k, n) - 1]!;
      if (row[field] === value) return;
      (row as unknown as Record<string, string>)[field] = value;
      if (streamCheck(rows, key, head, 'acme').clean) throw new Error(`${field} edited, yet the chain reads as clean`);
      const found = shape(rows, head);
      if (JSON.stringify(found) !== JSON.stringify([`edited@${row.seq}`]))
        throw new Error(`${field} of #${row.seq} edited: found ${found.join(', ')}`);
    }),
  );
});

test('messages say which record, in words', (t) => {
  const { rows, head } = chain(6);
  const edited = diagnoseChain(
    rows.map((r) => (r.seq === 3 ? { ...r, actor: 'x@y.test' } : r)),
    key,
    head,
    'acme',
  );
  t.deepEqual(edited, [
    { kind: 'edited', seq: 3, message: 'record #3 was edited: its content no longer matches its MAC' },
  ]);
  const deleted = diagnoseChain(
    rows.filter((r) => r.seq !== 2 && r.seq !== 3),
    key,
    head,
    'acme',
  );
  t.deepEqual(deleted, [
    {
      kind: 'deleted',
      seq: 2,
      message: 'records #2-#3 were deleted: record #4 chains to a record that is no longer there',
    },
  ]);
  const tail = diagnoseChain(
    rows.filter((r) => r.seq < 5),
    key,
    head,
    'acme',
  );
  t.deepEqual(tail, [{ kind: 'deleted', seq: 5, message: 'records #5-#6 were deleted from the end of the trail' }]);
  const swapped = diagnoseChain(
    bySeq(rows.map((r) => (r.seq === 2 ? { ...r, seq: 5 } : r.seq === 5 ? { ...r, seq: 2 } : r))),
    key,
    head,
    'acme',
  );
  t.deepEqual(
    swapped.map((p) => p.message),
    ['record #5 was moved: it is stored as #2', 'record #2 was moved: it is stored as #5'],
  );
});

test('the sealed head: missing, altered, or rolled back', (t) => {
  const { rows, head } = chain(5);
  t.deepEqual(shape(rows, undefined), ['head@5']);
  t.deepEqual(shape(rows, { ...head, tag: head.tag.replace(/^./, (c) => (c === 'A' ? 'B' : 'A')) }), ['head@5']);
  const older = rows[2]!;
  t.deepEqual(shape(rows, { seq: older.seq, mac: older.mac, tag: headTag(key, 'acme', older.seq, older.mac) }), [
    'head@3',
  ]);
  t.deepEqual(shape([], head), ['deleted@1']);
});
