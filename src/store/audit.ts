/**
 * The audit trail: append-only records chained by MAC. Each MAC covers the record's own
 * fields (its sequence number included, so reordering shows) and the previous record's MAC
 * (so deleting or inserting shows). The key comes from the master key: with the database
 * alone nobody can forge a record.
 *
 * Beside the records sits a sealed head (the newest record's seq and MAC, tagged with the same
 * key). Records cut from the end leave the head pointing past the last one, and new records
 * chain on from the head, not from whatever row happens to be last.
 */
import { createHmac } from 'node:crypto';
import type { Db } from './open.js';
import { sql, writeTransaction } from './statements.js';

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

export function headTag(key: Buffer, seq: number, mac: string): string {
  return createHmac('sha256', key)
    .update(JSON.stringify(['akm audit head', seq, mac]))
    .digest('base64url');
}

/** Does the row's MAC hold for this seq? (Its stored seq, unless we are looking for where a moved row was written.) */
export function macMatches(key: Buffer, row: AuditRow, seq = row.seq): boolean {
  const { mac, ...fields } = row;
  return auditMac(key, { ...fields, seq }) === mac;
}

export function headIsSealed(key: Buffer, head: AuditHeadRow | undefined): head is AuditHeadRow {
  return head !== undefined && headTag(key, head.seq, head.mac) === head.tag;
}

export function readAuditHead(db: Db): AuditHeadRow | undefined {
  return sql(db, 'SELECT seq, mac, tag FROM audit_head WHERE id = 1').get() as AuditHeadRow | undefined;
}

function lastAuditRow(db: Db): { seq: number; mac: string } | undefined {
  return sql(db, 'SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1').get() as
    { seq: number; mac: string } | undefined;
}

/** Must run inside the caller's write transaction, so the record commits with the change. */
export function appendAudit(db: Db, key: Buffer, entry: AuditEntry): AuditRow {
  const last = lastAuditRow(db);
  const head = readAuditHead(db);
  // Chain from the sealed head when there is one: a forged row appended behind akm's back is
  // then left out of the chain, and a cut-off tail stays visible as a gap. The seq still goes
  // past every stored row so the insert never collides.
  const previous = headIsSealed(key, head) ? head : last;
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
  sql(
    db,
    `INSERT INTO audit_head (id, seq, mac, tag) VALUES (1, @seq, @mac, @tag)
     ON CONFLICT (id) DO UPDATE SET seq = @seq, mac = @mac, tag = @tag`,
  ).run({
    seq: row.seq,
    mac: row.mac,
    tag: headTag(key, row.seq, row.mac),
  });
  return row;
}

export const META_HEAD_PENDING = 'audit_head_pending';

/**
 * A store upgraded from schema 1 has a chain but no sealed head. The first akm run that holds
 * the master key seals the head on the chain's last record and drops the marker. Trust on
 * first use: the marker is set only by the migration, in the same transaction as the table.
 */
export function sealPendingHead(db: Db, key: Buffer): void {
  // A read-only run leaves it to the next run that writes.
  if (db.readonly || !sql(db, 'SELECT 1 FROM meta WHERE key = ?').get(META_HEAD_PENDING)) return;
  writeTransaction(db, () => {
    if (!sql(db, 'SELECT 1 FROM meta WHERE key = ?').get(META_HEAD_PENDING)) return;
    const last = sql(db, 'SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1').get() as
      { seq: number; mac: string } | undefined;
    if (last && !readAuditHead(db)) {
      sql(db, 'INSERT INTO audit_head (id, seq, mac, tag) VALUES (1, ?, ?, ?)').run(
        last.seq,
        last.mac,
        headTag(key, last.seq, last.mac),
      );
    }
    sql(db, 'DELETE FROM meta WHERE key = ?').run(META_HEAD_PENDING);
  });
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

/** Every record in stored order, one at a time: the clean-chain check keeps nothing in memory. */
export function iterateAudit(db: Db): IterableIterator<AuditRow> {
  return sql(db, 'SELECT * FROM audit ORDER BY seq').iterate() as IterableIterator<AuditRow>;
}

export function allAuditRows(db: Db): AuditRow[] {
  return sql(db, 'SELECT * FROM audit ORDER BY seq').all() as AuditRow[];
}
