/** The in-memory tally of uses per secret and source: bounded whatever callers send. */
import test from 'ava';
import fc from 'fast-check';
import type { UseSource } from '../../src/core/source.js';
import { SOURCES_KEPT, SourceBook, newestTallies, type Use } from '../../src/core/usage.js';
import { checkProperty } from '../helpers/property.js';

const T0 = Date.parse('2026-05-01T00:00:00.000Z');
const source = (n: number): UseSource => ({ service: `svc${n}`, address: '10.0.0.1', userAgent: null, via: null });
const use = (n: number, at: number, over: Partial<Use> = {}): Use => ({
  accessKeyId: 'AKMAAAAAAAAAAAAAAAAA',
  generation: 1,
  kind: 'use',
  at: new Date(T0 + at).toISOString(),
  source: source(n),
  ...over,
});

test('uses of one source fold into one tally: first and last seen, count', (t) => {
  const book = new SourceBook();
  book.note(use(1, 5000));
  book.note(use(1, 1000));
  book.note(use(1, 9000));
  book.note(use(2, 2000));
  book.note(use(1, 3000, { generation: 2 }));
  book.note(use(1, 3000, { kind: 'refused' }));
  const slots = book.take();
  t.is(slots.length, 3);
  const first = slots.find((s) => s.generation === 1 && s.kind === 'use')!;
  const one = first.tallies.find((x) => x.source.service === 'svc1')!;
  t.deepEqual(
    { firstSeen: one.firstSeen, lastSeen: one.lastSeen, count: one.count },
    { firstSeen: new Date(T0 + 1000).toISOString(), lastSeen: new Date(T0 + 9000).toISOString(), count: 3 },
  );
  t.is(book.size, 0);
  t.deepEqual(book.take(), []);
});

test('at most 20 sources per secret, the most recently seen; memory bounded by the number of secrets', (t) => {
  checkProperty(
    t,
    'bounded tallies',
    fc.property(
      fc.array(fc.record({ n: fc.integer({ min: 0, max: 60 }), at: fc.integer({ min: 0, max: 100_000 }) }), {
        maxLength: 300,
      }),
      (notes) => {
        const book = new SourceBook();
        for (const { n, at } of notes) book.note(use(n, at));
        const [slot] = book.take();
        if (notes.length === 0) return slot === undefined;
        if (slot!.tallies.length > SOURCES_KEPT) return false;
        // Every kept source's count is exact unless it was dropped and came back (then only the
        // uses since it came back are counted); its last use is its true last use.
        return slot!.tallies.every((tally) => {
          const mine = notes.filter((x) => `svc${x.n}` === tally.source.service);
          const last = Math.max(...mine.map((x) => x.at));
          return tally.lastSeen === new Date(T0 + last).toISOString() && tally.count <= mine.length && tally.count >= 1;
        });
      },
    ),
  );
});

test('more secrets than the book holds: the rest are counted as dropped, never stored', (t) => {
  const book = new SourceBook(3);
  for (let i = 0; i < 5; i++) book.note(use(1, i, { accessKeyId: `AKMAAAAAAAAAAAAAAAA${'ABCDE'[i]}` }));
  t.is(book.size, 3);
  t.is(book.dropped, 2);
  book.take();
  t.is(book.dropped, 0);
});

test('what a failed write could not store goes back in, merged with newer uses', (t) => {
  const book = new SourceBook();
  book.note(use(1, 1000));
  const failed = book.take();
  book.note(use(1, 5000));
  book.putBack(failed);
  const [slot] = book.take();
  t.is(slot!.tallies.length, 1);
  t.is(slot!.tallies[0]!.count, 2);
  t.is(slot!.tallies[0]!.firstSeen, new Date(T0 + 1000).toISOString());
  t.is(slot!.tallies[0]!.lastSeen, new Date(T0 + 5000).toISOString());
});

test('newestTallies: most recent first, ties by count', (t) => {
  const tally = (n: number, at: number, count: number) => ({
    source: source(n),
    firstSeen: new Date(T0).toISOString(),
    lastSeen: new Date(T0 + at).toISOString(),
    count,
  });
  const sorted = newestTallies([tally(1, 10, 1), tally(2, 30, 1), tally(3, 30, 5), tally(4, 20, 1)], 3);
  t.deepEqual(
    sorted.map((s) => s.source.service),
    ['svc3', 'svc2', 'svc4'],
  );
});
