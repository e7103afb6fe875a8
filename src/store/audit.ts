/**
 * The audit trail: append-only records chained by MAC. Each MAC covers the record's own
 * fields (its sequence number included, so reordering shows) and the previous record's MAC
 * (so deleting or inserting shows). The key comes from the master key: with the database
 * alone nobody can forge a record.
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

export function auditMac(key: Buffer, row: Omit<AuditRow, 'mac'>): string {
  const fields = [row.seq, row.tenant_id, row.at, row.actor, row.action, row.target, row.details, row.source, row.prev_mac];
  return createHmac('sha256', key).update(JSON.stringify(fields)).digest('base64url');
}

/** Must run inside the caller's write transaction, so the record commits with the change. */
export function appendAudit(db: Db, key: Buffer, entry: AuditEntry): AuditRow {
  const last = sql(db, 'SELECT seq, mac FROM audit ORDER BY seq DESC LIMIT 1').get() as { seq: number; mac: string } | undefined;
  const base = {
    seq: (last?.seq ?? 0) + 1,
    tenant_id: entry.tenantId,
    at: entry.at,
    actor: entry.actor,
    action: entry.action,
    target: entry.target,
    details: JSON.stringify(entry.details),
    source: entry.source,
    prev_mac: last?.mac ?? GENESIS_MAC,
  };
  const row: AuditRow = { ...base, mac: auditMac(key, base) };
  sql(
    db,
    `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
     VALUES (@seq, @tenant_id, @at, @actor, @action, @target, @details, @source, @prev_mac, @mac)`,
  ).run(row);
  return row;
}

export function countAuditForTarget(db: Db, target: string): number {
  return (sql(db, 'SELECT count(*) AS n FROM audit WHERE target = ?').get(target) as { n: number }).n;
}
