/**
 * Verifying a tenant's audit chain and, when it is broken, saying which record was edited,
 * deleted, inserted or moved. A clean chain is checked in one streaming pass; only a broken
 * one is loaded whole for the diagnosis in auditDiagnose.ts. Nothing here reads another
 * tenant's records.
 */
import {
  allAuditRows,
  GENESIS_MAC,
  headIsSealed,
  iterateAudit,
  macMatches,
  readAuditHead,
  type AuditHeadRow,
  type AuditRow,
} from './audit.js';
import { diagnoseChain, type AuditProblem } from './auditDiagnose.js';
import type { Db } from './open.js';
import { sql } from './statements.js';

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
export function verifyChain(db: Db, key: Buffer, tenantId: string, expected?: ChainAnchor): ChainReport {
  return db.transaction(() => {
    const head = readAuditHead(db, tenantId);
    const quick = streamCheck(iterateAudit(db, tenantId), key, head, tenantId);
    const problems = quick.clean ? [] : diagnoseChain(allAuditRows(db, tenantId), key, head, tenantId);
    if (quick.records === 0 && head === undefined) problems.push(WIPED);
    if (expected) problems.push(...anchorProblems(db, key, tenantId, expected, quick.clean));
    problems.sort((a, b) => a.seq - b.seq || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    return { records: quick.records, head: head ? { seq: head.seq, mac: head.mac } : null, problems };
  })();
}

const WIPED: AuditProblem = {
  kind: 'deleted',
  seq: 1,
  message: 'the audit trail is empty and its sealed head is gone: every record was deleted',
};

/** The fast path: contiguous seqs, each linked to the one before, each MAC valid, head on the last. */
export function streamCheck(
  rows: Iterable<AuditRow>,
  key: Buffer,
  head: AuditHeadRow | undefined,
  tenantId: string | null,
): { clean: boolean; records: number } {
  let records = 0;
  let clean = true;
  let last: AuditRow | undefined;
  for (const row of rows) {
    records += 1;
    if (clean) {
      const linked = row.prev_mac === (last?.mac ?? GENESIS_MAC) && row.seq === (last?.seq ?? 0) + 1;
      clean = linked && macMatches(key, row);
    }
    last = row;
  }
  if (!last) return { clean: head === undefined, records };
  const headOk = headIsSealed(key, head, tenantId) && head.seq === last.seq && head.mac === last.mac;
  return { clean: clean && headOk, records };
}

/** An anchor noted earlier (`akm audit head` prints one) must still be in the chain, unchanged. */
function anchorProblems(db: Db, key: Buffer, tenantId: string, expected: ChainAnchor, clean: boolean): AuditProblem[] {
  const rows = clean ? [] : allAuditRows(db, tenantId);
  const match = clean
    ? (sql(db, 'SELECT * FROM audit WHERE tenant_id = ? AND seq = ?').get(tenantId, expected.seq) as
        AuditRow | undefined)
    : rows.find((r) => r.mac === expected.mac);
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
