/**
 * Diagnosis of a broken audit chain. A genuine record's MAC covers its content, the seq it was
 * written with and its predecessor's MAC. So for every stored row we look for the seq at which
 * its MAC holds ("where it was written") and compare that with where it is stored now and with
 * the rows around it:
 *  - no seq makes its MAC hold: it was edited (when the chain still passes through its MAC) or
 *    inserted (when nothing does);
 *  - its MAC holds at another seq: it was moved (reordered, or renumbered to hide a gap);
 *  - the MAC it names as its predecessor is nowhere: the record(s) before it were deleted;
 *  - the sealed head names a record past the last one: records were deleted from the end.
 * Pure: one chain's rows and key in, problems out.
 */
import { GENESIS_MAC, headIsSealed, macMatches, type AuditHeadRow, type AuditRow } from './audit.js';

export type AuditProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'head';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** the stored seq of the record concerned, or the first written seq of a deleted range */
  seq: number;
  message: string;
}

/** A problem with what the diagnosis needs to merge findings. */
type Finding = AuditProblem & { range?: [number, number]; copy?: true };

interface Slot {
  row: AuditRow;
  /** the seq at which this row's MAC holds; null when none does */
  written: number | null;
  /** set when the row is a verbatim copy of a record that is also present */
  copyOf: number | null;
}

/** How far from its stored seq a moved row is looked for when its neighbours cannot place it. */
const SEARCH_RADIUS = 16;

/** `tenantId` names the chain the head seals (null: the single chain of schemas 2 and 3). */
export function diagnoseChain(
  rows: AuditRow[],
  key: Buffer,
  head: AuditHeadRow | undefined,
  tenantId: string | null,
): AuditProblem[] {
  const slots: Slot[] = rows.map((row) => ({ row, written: macMatches(key, row) ? row.seq : null, copyOf: null }));
  const byMac = new Map<string, Slot>();
  const followers = new Map<string, Slot[]>();
  for (const slot of slots) {
    if (!byMac.has(slot.row.mac)) byMac.set(slot.row.mac, slot);
    followers.set(slot.row.prev_mac, [...(followers.get(slot.row.prev_mac) ?? []), slot]);
  }
  placeMovedRows(slots, key, byMac, followers);
  markCopies(slots);
  const sealed = headIsSealed(key, head, tenantId) ? head : undefined;
  const isReferenced = (slot: Slot) => followers.has(slot.row.mac) || sealed?.mac === slot.row.mac;
  const edited = slots.filter((s) => s.written === null && s.copyOf === null && isReferenced(s));
  const known = [
    ...slots.filter((s) => s.written !== null && s.copyOf === null).map((s) => s.written!),
    ...edited.map((s) => s.row.seq),
  ].sort((a, b) => a - b);

  const problems: Finding[] = [];
  for (const slot of slots) {
    const seq = slot.row.seq;
    if (slot.copyOf !== null)
      problems.push({
        kind: 'inserted',
        seq,
        message: `record #${seq} was inserted: it is a copy of record #${slot.copyOf}`,
        copy: true,
      });
    else if (slot.written === null && isReferenced(slot))
      problems.push({
        kind: 'edited',
        seq,
        message: `record #${seq} was edited: its content no longer matches its MAC`,
      });
    else if (slot.written === null)
      problems.push({
        kind: 'inserted',
        seq,
        message: `record #${seq} was inserted: it has no valid MAC and the chain does not pass through it`,
      });
  }
  problems.push(...movedProblems(slots));
  for (const slot of slots) {
    if (
      slot.written === null ||
      slot.copyOf !== null ||
      slot.row.prev_mac === GENESIS_MAC ||
      byMac.has(slot.row.prev_mac)
    )
      continue;
    problems.push(deletedBefore(slot.written, known));
  }
  problems.push(...headProblems(slots, head, sealed, known));
  return mergeReplaced(problems).map(({ kind, seq, message }) => ({ kind, seq, message }));
}

/**
 * Find where each row whose MAC fails at its stored seq was written: first from placed
 * neighbours, then by a bounded search.
 */
function placeMovedRows(slots: Slot[], key: Buffer, byMac: Map<string, Slot>, followers: Map<string, Slot[]>): void {
  const tryAt = (slot: Slot, seq: number): boolean => {
    if (seq < 1 || !macMatches(key, slot.row, seq)) return false;
    slot.written = seq;
    return true;
  };
  const fromNeighbours = (slot: Slot): boolean => {
    if (slot.row.prev_mac === GENESIS_MAC && tryAt(slot, 1)) return true;
    const before = byMac.get(slot.row.prev_mac);
    if (before && before !== slot && before.written !== null && tryAt(slot, before.written + 1)) return true;
    return (followers.get(slot.row.mac) ?? []).some(
      (after) => after !== slot && after.written !== null && tryAt(slot, after.written - 1),
    );
  };
  // A worklist, so a long renumbered run is placed in linear time whichever end it is reached from.
  const queue = slots.filter((s) => s.written !== null);
  const drain = () => {
    for (let slot = queue.pop(); slot; slot = queue.pop()) {
      for (const next of [byMac.get(slot.row.prev_mac), ...(followers.get(slot.row.mac) ?? [])]) {
        if (next && next.written === null && fromNeighbours(next)) queue.push(next);
      }
    }
  };
  for (const slot of slots)
    if (slot.written === null && slot.row.prev_mac === GENESIS_MAC && tryAt(slot, 1)) queue.push(slot);
  drain();
  for (const slot of slots) {
    if (slot.written !== null) continue;
    for (let d = 1; d <= SEARCH_RADIUS; d++) {
      if (tryAt(slot, slot.row.seq - d) || tryAt(slot, slot.row.seq + d)) {
        queue.push(slot);
        drain();
        break;
      }
    }
  }
}

/** Two rows placed at the same written seq: the one stored there is the record, the other a copy. */
function markCopies(slots: Slot[]): void {
  const owner = new Map<number, Slot>();
  for (const slot of slots) if (slot.written !== null && slot.written === slot.row.seq) owner.set(slot.written, slot);
  for (const slot of slots) {
    if (slot.written === null || owner.get(slot.written) === slot) continue;
    if (owner.has(slot.written)) slot.copyOf = slot.written;
    else owner.set(slot.written, slot);
  }
}

/** Rows stored away from where they were written; a run shifted by the same amount is one problem. */
function movedProblems(slots: Slot[]): AuditProblem[] {
  const problems: AuditProblem[] = [];
  const moved = (s: Slot | undefined) =>
    s !== undefined && s.copyOf === null && s.written !== null && s.written !== s.row.seq;
  for (let i = 0; i < slots.length; i++) {
    if (!moved(slots[i])) continue;
    const first = slots[i]!;
    const shift = first.row.seq - first.written!;
    let j = i;
    while (
      moved(slots[j + 1]) &&
      slots[j + 1]!.row.seq - slots[j + 1]!.written! === shift &&
      slots[j + 1]!.written === slots[j]!.written! + 1
    )
      j++;
    const last = slots[j]!;
    problems.push({
      kind: 'reordered',
      seq: first.row.seq,
      message:
        i === j
          ? `record #${first.written} was moved: it is stored as #${first.row.seq}`
          : `records #${first.written}-#${last.written} were renumbered: ` +
            `they are stored as #${first.row.seq}-#${last.row.seq}`,
    });
    i = j;
  }
  return problems;
}

/** The predecessor of the record written as #seq is gone: name the written seqs that are missing below it. */
function deletedBefore(seq: number, known: number[]): Finding {
  const below = known.filter((k) => k < seq);
  const from = (below.length ? below[below.length - 1]! : 0) + 1;
  const to = seq - 1;
  if (from > to) return { kind: 'deleted', seq, message: `the record just before #${seq} was deleted` };
  const what = from === to ? `record #${from} was deleted` : `records #${from}-#${to} were deleted`;
  return {
    kind: 'deleted',
    seq: from,
    message: `${what}: record #${seq} chains to a record that is no longer there`,
    range: [from, to],
  };
}

function headProblems(
  slots: Slot[],
  head: AuditHeadRow | undefined,
  sealed: AuditHeadRow | undefined,
  known: number[],
): Finding[] {
  const lastStored = slots[slots.length - 1]?.row.seq ?? 0;
  if (!head) {
    return slots.length
      ? [
          {
            kind: 'head',
            seq: lastStored,
            message: 'the sealed head of the chain is missing: records may have been deleted from the end',
          },
        ]
      : [];
  }
  if (!sealed) return [{ kind: 'head', seq: head.seq, message: 'the sealed head of the chain was altered' }];
  const top = known.length ? known[known.length - 1]! : 0;
  if (sealed.seq > top) {
    const from = top + 1;
    const what = from === sealed.seq ? `record #${from} was deleted` : `records #${from}-#${sealed.seq} were deleted`;
    return [{ kind: 'deleted', seq: from, message: `${what} from the end of the trail`, range: [from, sealed.seq] }];
  }
  const atHead = slots.find(
    (s) => s.copyOf === null && (s.written ?? s.row.seq) === sealed.seq && s.row.mac === sealed.mac,
  );
  if (!atHead)
    return [
      {
        kind: 'head',
        seq: sealed.seq,
        message: `the sealed head names record #${sealed.seq}, which is not the record stored there`,
      },
    ];
  if (top > sealed.seq)
    return [
      {
        kind: 'head',
        seq: sealed.seq,
        message: `the sealed head names record #${sealed.seq} but genuine records follow it: the head was rolled back`,
      },
    ];
  return [];
}

/**
 * A row whose content and MAC were both replaced shows as "inserted" plus "deleted" at the same
 * seq: report one edit.
 */
function mergeReplaced(problems: Finding[]): Finding[] {
  const single = (p: Finding) => p.kind === 'deleted' && p.range !== undefined && p.range[0] === p.range[1];
  const replaced = new Set(
    problems
      .filter(single)
      .map((p) => p.range![0])
      .filter((seq) => problems.some((q) => q.kind === 'inserted' && !q.copy && q.seq === seq)),
  );
  return problems
    .filter((p) => !(single(p) && replaced.has(p.seq)))
    .map((p) =>
      p.kind === 'inserted' && !p.copy && replaced.has(p.seq)
        ? {
            kind: 'edited',
            seq: p.seq,
            message: `record #${p.seq} was edited: its content and its MAC were both replaced`,
          }
        : p,
    );
}
