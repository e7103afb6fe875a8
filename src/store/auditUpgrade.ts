/**
 * From one audit chain for the whole store (up to schema 3) to one chain per tenant (schema 4).
 * The migration cannot re-chain (it has no master key), so it keeps the old chain as
 * audit_v2 / audit_head_v2, and the first run that holds the key does the rest, in one
 * transaction: verify the old chain exactly as it was verified before, and only if it is intact,
 * re-chain each tenant's records in their order (seq 1, 2, … per tenant, new MACs, a sealed
 * head per tenant) and drop the old tables. A chain that does not verify is not re-chained:
 * every run refuses with the problems found, and the store is left as it was.
 *
 * A store from schema 1 never had a sealed head: its chain is trusted as it ends (trust on
 * first use, as schema 2 did when it added the head).
 */
import { UnavailableError } from '../core/errors.js';
import { auditMac, GENESIS_MAC, headTag, writeAuditHead, type AuditHeadRow, type AuditRow } from './audit.js';
import { diagnoseChain } from './auditDiagnose.js';
import { streamCheck } from './auditVerify.js';
import { deleteMeta, getMeta } from './meta.js';
import type { Queryable, Store } from './types.js';

/** Set by migration 2 on a store that had records but no sealed head yet. */
const META_HEAD_PENDING = 'audit_head_pending';

/** The single chain of schemas 2 and 3 waits for the first run with the key to re-chain it. */
export async function oldChainPresent(q: Queryable): Promise<boolean> {
  return (await q.get(q.dialect.tableExists, { name: 'audit_v2' })) !== undefined;
}

export async function upgradeAuditChains(store: Store, key: Buffer): Promise<void> {
  if (!(await store.read(oldChainPresent))) return;
  try {
    await store.write(null, (tx) => upgrade(tx, key));
  } catch (error) {
    // PostgreSQL: another process upgraded it meanwhile (its DROP TABLE went first).
    if (!(await store.read(oldChainPresent))) return;
    throw error;
  }
}

async function upgrade(tx: Queryable, key: Buffer): Promise<void> {
  if (!(await oldChainPresent(tx))) return; // another process finished first
  const stored = await tx.get<AuditHeadRow>('SELECT seq, mac, tag FROM audit_head_v2 WHERE id = 1');
  const rows = await tx.all<AuditRow>('SELECT * FROM audit_v2 ORDER BY seq');
  const problems = await oldChainProblems(tx, key, rows, stored);
  if (problems.length > 0) {
    throw new UnavailableError(
      `the audit trail does not verify, so it was not upgraded to one chain per tenant: ` +
        `${problems.length} problem(s), first: ${problems[0]}`,
      { hint: 'restore the store from a backup you trust; it was left unchanged', code: 'audit_tampered' },
    );
  }
  await rechain(tx, key, rows);
  await tx.run('DROP TABLE audit_v2');
  await tx.run('DROP TABLE audit_head_v2');
  await deleteMeta(tx, META_HEAD_PENDING);
}

async function oldChainProblems(
  q: Queryable,
  key: Buffer,
  rows: AuditRow[],
  stored: AuditHeadRow | undefined,
): Promise<string[]> {
  const last = rows[rows.length - 1];
  const trustEnd = !stored && last && (await getMeta(q, META_HEAD_PENDING)) !== undefined;
  const head = trustEnd ? { seq: last.seq, mac: last.mac, tag: headTag(key, null, last.seq, last.mac) } : stored;
  if (streamCheck(rows, key, head, null).clean) return [];
  return diagnoseChain(rows, key, head, null).map((p) => p.message);
}

async function rechain(q: Queryable, key: Buffer, rows: AuditRow[]): Promise<void> {
  const tails = new Map<string, { seq: number; mac: string }>();
  for (const old of rows) {
    const tail = tails.get(old.tenant_id);
    const base = { ...old, seq: (tail?.seq ?? 0) + 1, prev_mac: tail?.mac ?? GENESIS_MAC };
    const row = { ...base, mac: auditMac(key, base) };
    await q.run(
      `INSERT INTO audit (tenant_id, seq, at, actor, action, target, details, source, prev_mac, mac)
       VALUES (@tenant_id, @seq, @at, @actor, @action, @target, @details, @source, @prev_mac, @mac)`,
      { ...row },
    );
    tails.set(old.tenant_id, { seq: row.seq, mac: row.mac });
  }
  for (const [tenantId, tail] of tails) await writeAuditHead(q, key, tenantId, tail);
}
