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
  return store.read(async (q) => {
    const head = await readAuditHead(q, tenantId);
    const quick = await batchedCheck(q, key, head, tenantId);
    const problems = quick.clean ? [] : diagnoseChain(await allAuditRows(q, tenantId), key, head, tenantId);
    if (quick.records === 0 && head === undefined) problems.push(WIPED);
    if (expected) problems.push(...(await anchorProblems(q, key, tenantId, expected, quick.clean)));
    problems.sort((a, b) => a.seq - b.seq || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    return { records: quick.records, head: head ? { seq: head.seq, mac: head.mac } : null, problems };
  });
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
