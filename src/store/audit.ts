/**
 * The audit trail: one append-only chain of records per tenant, chained by MAC. Each MAC
 * covers the record's own fields (its tenant and its sequence number in that tenant's chain
 * included, so moving or reordering shows) and the previous record's MAC (so deleting or
 * inserting shows). The key comes from the master key: with the database alone nobody can
 * forge a record.
 *
 * Beside each tenant's records sits its sealed head (the newest record's seq and MAC, tagged
 * with the same key and the tenant id). Records cut from the end leave the head pointing past
 * the last one, and new records chain on from the head, not from whatever row happens to be last.
 */
import { createHmac } from 'node:crypto';
import type { Db } from './open.js';
import { sql } from './statements.js';

export const GENESIS_MAC = 'genesis';

export interface AuditEntry {
  tenantId: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  source: string;
}

export interface AuditRow {
  seq: number;
  tenant_id: string;
  at: string;
  actor: string;
  action: string;
  target: string | null;
  details: string;
  source: string;
  prev_mac: string;
  mac: string;
}

export interface AuditHeadRow {
  seq: number;
  mac: string;
  tag: string;
}

export function auditMac(key: Buffer, row: Omit<AuditRow, 'mac'>): string {
  const fields = [
    row.seq,
    row.tenant_id,
    row.at,
    row.actor,
    row.action,
    row.target,
    row.details,
    row.source,
    row.prev_mac,
  ];
  return createHmac('sha256', key).update(JSON.stringify(fields)).digest('base64url');
}

/** The seal of a tenant's head; `null` for the single chain of schemas 2 and 3 (see auditUpgrade.ts). */
export function headTag(key: Buffer, tenantId: string | null, seq: number, mac: string): string {
  const fields = tenantId === null ? ['akm audit head', seq, mac] : ['akm audit head', tenantId, seq, mac];
  return createHmac('sha256', key).update(JSON.stringify(fields)).digest('base64url');
}

/** Does the row's MAC hold for this seq? (Its stored seq, unless we are looking for where a moved row was written.) */
export function macMatches(key: Buffer, row: AuditRow, seq = row.seq): boolean {
  const { mac, ...fields } = row;
  return auditMac(key, { ...fields, seq }) === mac;
}

export function headIsSealed(
  key: Buffer,
  head: AuditHeadRow | undefined,
  tenantId: string | null,
): head is AuditHeadRow {
  return head !== undefined && headTag(key, tenantId, head.seq, head.mac) === head.tag;
}

export function readAuditHead(db: Db, tenantId: string): AuditHeadRow | undefined {
  return sql(db, 'SELECT seq, mac, tag FROM audit_heads WHERE tenant_id = ?').get(tenantId) as AuditHeadRow | undefined;
}

function lastAuditRow(db: Db, tenantId: string): { seq: number; mac: string } | undefined {
  return sql(db, 'SELECT seq, mac FROM audit WHERE tenant_id = ? ORDER BY seq DESC LIMIT 1').get(tenantId) as
    { seq: number; mac: string } | undefined;
}

/** Must run inside the caller's write transaction, so the record commits with the change. */
export function appendAudit(db: Db, key: Buffer, entry: AuditEntry): AuditRow {
  const last = lastAuditRow(db, entry.tenantId);
  const head = readAuditHead(db, entry.tenantId);
  // Chain from the sealed head when there is one: a forged row appended behind akm's back is
  // then left out of the chain, and a cut-off tail stays visible as a gap. The seq still goes
  // past every stored row so the insert never collides.
  const previous = headIsSealed(key, head, entry.tenantId) ? head : last;
  const base = {
    seq: Math.max(last?.seq ?? 0, head?.seq ?? 0) + 1,
    tenant_id: entry.tenantId,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    details: JSON.stringify(entry.details),
    source: entry.source,
    prev_mac: previous?.mac ?? GENESIS_MAC,
  };
  const row: AuditRow = { ...base, mac: auditMac(key, base) };
  sql(
    db,
    `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
     VALUES (@seq, @tenant_id, @at, @actor, @action, @target, @details, @source, @prev_mac, @mac)`,
  ).run(row);
  writeAuditHead(db, key, entry.tenantId, row);
  return row;
}

export function writeAuditHead(db: Db, key: Buffer, tenantId: string, last: { seq: number; mac: string }): void {
  sql(
    db,
    `INSERT INTO audit_heads (tenant_id, seq, mac, tag) VALUES (@tenantId, @seq, @mac, @tag)
     ON CONFLICT (tenant_id) DO UPDATE SET seq = @seq, mac = @mac, tag = @tag`,
  ).run({ tenantId, seq: last.seq, mac: last.mac, tag: headTag(key, tenantId, last.seq, last.mac) });
}

export interface AuditQuery {
  tenantId: string;
  /** ISO timestamp: records at or after it */
  since?: string;
  /** an access key id (matches the target) or a key name (matches key records by the name they carry) */
  keyId?: string;
  keyName?: string;
  actor?: string;
  /** keyset paging: records older than this seq */
  beforeSeq?: number;
  limit: number;
}

/** Newest first. Key records carry the key's name in their details, so a deleted key's history is found by name too. */
export function queryAudit(db: Db, q: AuditQuery): AuditRow[] {
  const where = ['tenant_id = @tenantId'];
  if (q.since !== undefined) where.push('at >= @since');
  if (q.keyId !== undefined) where.push('target = @keyId');
  if (q.keyName !== undefined)
    where.push("action LIKE 'key.%' AND json_extract(details, '$.name') = @keyName COLLATE NOCASE");
  if (q.actor !== undefined) where.push('actor = @actor COLLATE NOCASE');
  if (q.beforeSeq !== undefined) where.push('seq < @beforeSeq');
  const text = `SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT @limit`;
  return sql(db, text).all({
    tenantId: q.tenantId,
    since: q.since,
    keyId: q.keyId,
    keyName: q.keyName,
    actor: q.actor,
    beforeSeq: q.beforeSeq,
    limit: q.limit,
  }) as AuditRow[];
}

/** A tenant's records in stored order, one at a time: the clean-chain check keeps nothing in memory. */
export function iterateAudit(db: Db, tenantId: string): IterableIterator<AuditRow> {
  return sql(db, 'SELECT * FROM audit WHERE tenant_id = ? ORDER BY seq').iterate(
    tenantId,
  ) as IterableIterator<AuditRow>;
}

export function allAuditRows(db: Db, tenantId: string): AuditRow[] {
  return sql(db, 'SELECT * FROM audit WHERE tenant_id = ? ORDER BY seq').all(tenantId) as AuditRow[];
}
