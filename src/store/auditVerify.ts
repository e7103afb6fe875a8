/**
 * Verifying the audit chain and, when it is broken, saying which record was edited, deleted,
 * inserted or moved. A clean chain is checked in one streaming pass; only a broken one is
 * loaded whole for the diagnosis in auditDiagnose.ts.
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

/** Read in one snapshot, so a change committed meanwhile cannot look like tampering. */
export function verifyChain(store: Store, key: Buffer, expected?: ChainAnchor): Promise<ChainReport> {
  return store.read(async (q) => {
    const head = await readAuditHead(q);
    const quick = await streamCheck(q, key, head);
    const problems = quick.clean ? [] : diagnoseChain(await allAuditRows(q), key, head);
    if (expected) problems.push(...(await anchorProblems(q, key, expected, quick.clean)));
    problems.sort((a, b) => a.seq - b.seq || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    return { records: quick.records, head: head ? { seq: head.seq, mac: head.mac } : null, problems };
  });
}

const BATCH = 5000;

/** The fast path: contiguous seqs, each linked to the one before, each MAC valid, head on the last. */
async function streamCheck(
  q: Queryable,
  key: Buffer,
  head: AuditHeadRow | undefined,
): Promise<{ clean: boolean; records: number }> {
  let records = 0;
  let clean = true;
  let last: AuditRow | undefined;
  for (let after = Number.MIN_SAFE_INTEGER; ;) {
    const batch = await auditBatch(q, after, BATCH);
    for (const row of batch) {
      records += 1;
      if (clean) {
        const linked = row.prev_mac === (last?.mac ?? GENESIS_MAC) && row.seq === (last?.seq ?? 0) + 1;
        clean = linked && macMatches(key, row);
      }
      last = row;
    }
    if (batch.length < BATCH) break;
    after = last!.seq;
  }
  if (!last) return { clean: head === undefined, records };
  const headOk = headIsSealed(key, head) && head.seq === last.seq && head.mac === last.mac;
  return { clean: clean && headOk, records };
}

/** An anchor noted earlier (`akm audit verify` prints one) must still be in the chain, unchanged. */
async function anchorProblems(
  q: Queryable,
  key: Buffer,
  expected: ChainAnchor,
  clean: boolean,
): Promise<AuditProblem[]> {
  const match = clean ? await auditRowAt(q, expected.seq) : (await allAuditRows(q)).find((r) => r.mac === expected.mac);
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
