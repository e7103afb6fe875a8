/**
 * Verifying a tenant's audit chain and, when it is broken, saying which record was edited,
 * deleted, inserted or moved. A clean chain is checked in one streaming pass; only a broken
 * one is loaded whole for the diagnosis in auditDiagnose.ts. Nothing here reads another
 * tenant's records.
 */
import {
  allAuditRows,
  auditBatch,
  auditRowAt,
  rotationRecords,
  GENESIS_MAC,
  headIsSealed,
  macMatches,
  readAuditHead,
  type AuditHeadRow,
  type AuditRow,
} from './audit.js';
import { diagnoseChain, type AuditProblem } from './auditDiagnose.js';
import type { Queryable, Store } from './types.js';

export type { AuditProblem, AuditProblemKind } from './auditDiagnose.js';

export interface ChainAnchor {
  seq: number;
  mac: string;
}

/** "<seq>:<mac>", as `akm audit head` and `akm audit verify` print a head. */
export function formatAnchor(anchor: ChainAnchor): string {
  return `${anchor.seq}:${anchor.mac}`;
}

export interface ChainReport {
  records: number;
  /** the newest record as the sealed head names it: write it down elsewhere to detect a cut-off tail later */
  head: ChainAnchor | null;
  problems: AuditProblem[];
}

const KIND_ORDER: AuditProblem['kind'][] = ['edited', 'deleted', 'inserted', 'reordered', 'head'];

/**
 * Read in one snapshot, so a change committed meanwhile cannot look like tampering. The tenant
 * exists (the caller acts in it), and `akm init` gives every tenant a first record: an empty
 * trail with no head means records and head were both wiped.
 */
export function verifyChain(store: Store, key: Buffer, tenantId: string, expected?: ChainAnchor): Promise<ChainReport> {
  return store.read((q) => chainReport(q, key, tenantId, expected));
}

/** The same, inside a transaction the caller holds (a master key rotation checks every chain first). */
export async function chainReport(
  q: Queryable,
  key: Buffer,
  tenantId: string,
  expected?: ChainAnchor,
): Promise<ChainReport> {
  const head = await readAuditHead(q, tenantId);
  const quick = await batchedCheck(q, key, head, tenantId);
  const problems = quick.clean ? [] : diagnoseChain(await allAuditRows(q, tenantId), key, head, tenantId);
  if (quick.records === 0 && head === undefined) problems.push(WIPED);
  if (expected) problems.push(...(await anchorProblems(q, key, tenantId, expected, quick.clean)));
  problems.sort((a, b) => a.seq - b.seq || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
  return { records: quick.records, head: head ? { seq: head.seq, mac: head.mac } : null, problems };
}

const WIPED: AuditProblem = {
  kind: 'deleted',
  seq: 1,
  message: 'the audit trail is empty and its sealed head is gone: every record was deleted',
};

const BATCH = 5000;

/** The fast path, walked one record at a time: contiguous seqs, each linked to the one before, each MAC valid. */
class ChainWalk {
  records = 0;
  private clean = true;
  private last: AuditRow | undefined;
  constructor(private readonly key: Buffer) {}

  add(row: AuditRow): void {
    this.records += 1;
    if (this.clean) {
      const linked = row.prev_mac === (this.last?.mac ?? GENESIS_MAC) && row.seq === (this.last?.seq ?? 0) + 1;
      this.clean = linked && macMatches(this.key, row);
    }
    this.last = row;
  }

  get lastSeq(): number | undefined {
    return this.last?.seq;
  }

  /** …and the sealed head on the last record. */
  result(head: AuditHeadRow | undefined, tenantId: string | null): { clean: boolean; records: number } {
    const last = this.last;
    if (!last) return { clean: head === undefined, records: this.records };
    const headOk = headIsSealed(this.key, head, tenantId) && head.seq === last.seq && head.mac === last.mac;
    return { clean: this.clean && headOk, records: this.records };
  }
}

/** The fast path over rows in memory (the upgrade of the single chain of schemas 2 and 3). */
export function streamCheck(
  rows: Iterable<AuditRow>,
  key: Buffer,
  head: AuditHeadRow | undefined,
  tenantId: string | null,
): { clean: boolean; records: number } {
  const walk = new ChainWalk(key);
  for (const row of rows) walk.add(row);
  return walk.result(head, tenantId);
}

/** The fast path over the store, a batch at a time: little is kept in memory. */
async function batchedCheck(
  q: Queryable,
  key: Buffer,
  head: AuditHeadRow | undefined,
  tenantId: string,
): Promise<{ clean: boolean; records: number }> {
  const walk = new ChainWalk(key);
  for (let after = Number.MIN_SAFE_INTEGER; ;) {
    const batch = await auditBatch(q, tenantId, after, BATCH);
    for (const row of batch) walk.add(row);
    if (batch.length < BATCH) break;
    after = walk.lastSeq!;
  }
  return walk.result(head, tenantId);
}

/** An anchor noted earlier (`akm audit head` prints one) must still be in the chain, unchanged. */
async function anchorProblems(
  q: Queryable,
  key: Buffer,
  tenantId: string,
  expected: ChainAnchor,
  clean: boolean,
): Promise<AuditProblem[]> {
  const match = clean
    ? await auditRowAt(q, tenantId, expected.seq)
    : (await allAuditRows(q, tenantId)).find((r) => r.mac === expected.mac);
  if (match && match.mac === expected.mac && macMatches(key, match, expected.seq)) return [];
  const rotation = await rotationSince(q, tenantId, expected);
  if (rotation) return rotation.problems;
  if (!match) {
    return [
      {
        kind: 'deleted',
        seq: expected.seq,
        message: `record #${expected.seq} named by the expected head is missing: the trail was cut short or rewritten`,
      },
    ];
  }
  return [
    {
      kind: 'head',
      seq: expected.seq,
      message: `record #${expected.seq} does not match the expected head: the trail was rewritten`,
    },
  ];
}

/**
 * A master key rotation re-keys every record (store/audit.ts, rekeyChain), so an anchor noted
 * before it names a MAC the chain no longer has. The rotation's own record, under the new key,
 * names the head it re-keyed: that anchor still holds (the rotation verified the chain up to it
 * under the old key). Any older anchor cannot be checked any more, and says so.
 */
async function rotationSince(
  q: Queryable,
  tenantId: string,
  expected: ChainAnchor,
): Promise<{ problems: AuditProblem[] } | null> {
  const rotations = (await rotationRecords(q, tenantId)).filter((r) => r.seq > expected.seq);
  if (rotations.length === 0) return null;
  const anchor = formatAnchor(expected);
  if (rotations.some((r) => r.previousHead === anchor)) return { problems: [] };
  const first = rotations[0]!;
  return {
    problems: [
      {
        kind: 'head',
        seq: expected.seq,
        message:
          `the expected head #${expected.seq} was noted before the master key rotation of ${first.at} ` +
          `(record #${first.seq}), which re-keyed every record before it; only the head it names ` +
          `(${first.previousHead ?? 'none'}) can still be checked: note a new head with akm audit head`,
      },
    ],
  };
}
