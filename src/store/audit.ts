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
import type { Queryable } from './types.js';

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

/** The tenant's sealed head; locked (PostgreSQL) when `forUpdate`, so appends queue up behind it. */
export function readAuditHead(q: Queryable, tenantId: string, forUpdate = false): Promise<AuditHeadRow | undefined> {
  return q.get<AuditHeadRow>(
    `SELECT seq, mac, tag FROM audit_heads WHERE tenant_id = @tenantId${forUpdate ? q.dialect.forUpdate : ''}`,
    { tenantId },
  );
}

function lastAuditRow(q: Queryable, tenantId: string): Promise<{ seq: number; mac: string } | undefined> {
  return q.get<{ seq: number; mac: string }>(
    'SELECT seq, mac FROM audit WHERE tenant_id = @tenantId ORDER BY seq DESC LIMIT 1',
    { tenantId },
  );
}

/** Must run inside the caller's write transaction, so the record commits with the change. */
export async function appendAudit(q: Queryable, key: Buffer, entry: AuditEntry): Promise<AuditRow> {
  // The head row is locked first: appends to one chain queue up behind it, so it stays a chain.
  const head = await readAuditHead(q, entry.tenantId, true);
  const last = await lastAuditRow(q, entry.tenantId);
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
  await q.run(
    `INSERT INTO audit (seq, tenant_id, at, actor, action, target, details, source, prev_mac, mac)
     VALUES (@seq, @tenant_id, @at, @actor, @action, @target, @details, @source, @prev_mac, @mac)`,
    { ...row },
  );
  await writeAuditHead(q, key, entry.tenantId, row);
  return row;
}

export async function writeAuditHead(
  q: Queryable,
  key: Buffer,
  tenantId: string,
  last: { seq: number; mac: string },
): Promise<void> {
  await q.run(
    `INSERT INTO audit_heads (tenant_id, seq, mac, tag) VALUES (@tenantId, @seq, @mac, @tag)
     ON CONFLICT (tenant_id) DO UPDATE SET seq = @seq, mac = @mac, tag = @tag`,
    { tenantId, seq: last.seq, mac: last.mac, tag: headTag(key, tenantId, last.seq, last.mac) },
  );
}

export interface AuditQuery {
  tenantId: string;
  /** ISO timestamp: records at or after it */
  since?: string;
  /** an access key id (matches the target) or a key name (matches key records by the name they carry) */
  keyId?: string;
  keyName?: string;
  actor?: string;
  /** keyset paging: records older than this seq, or than the record with this MAC */
  beforeSeq?: number;
  beforeMac?: string;
  /** leave out the records about canary keys (their creation, their alarms, every change to them) */
  withoutCanaries?: boolean;
  limit: number;
}

/** The canary keys the tenant @tenantId ever had, by their creation records (a deleted canary's too). */
export function canaryIdsSql(q: Queryable): string {
  return `SELECT target FROM audit WHERE tenant_id = @tenantId AND action = 'key.create'
             AND ${q.dialect.jsonField('details', 'canary')} IS NOT NULL`;
}

/** Newest first. Key records carry the key's name in their details, so a deleted key's history is found by name too. */
export function queryAudit(q: Queryable, query: AuditQuery): Promise<AuditRow[]> {
  const where = ['tenant_id = @tenantId'];
  if (query.since !== undefined) where.push('at >= @since');
  if (query.keyId !== undefined) where.push('target = @keyId');
  if (query.keyName !== undefined)
    where.push(`action LIKE 'key.%' AND ${q.dialect.jsonField('details', 'name')} = @keyName COLLATE NOCASE`);
  if (query.actor !== undefined) where.push('actor = @actor COLLATE NOCASE');
  if (query.beforeSeq !== undefined) where.push('seq < @beforeSeq');
  if (query.beforeMac !== undefined)
    where.push('seq < (SELECT seq FROM audit WHERE tenant_id = @tenantId AND mac = @beforeMac)');
  if (query.withoutCanaries) {
    const canaries = canaryIdsSql(q);
    // A failed sign-in with a canary is recorded as one with an unknown key, and shown as such.
    where.push(
      `(action = 'auth.failed' OR (coalesce(target, '') NOT IN (${canaries}) ` +
        `AND actor NOT IN (SELECT 'key:' || target FROM (${canaries}) c)))`,
    );
  }
  const text = `SELECT * FROM audit WHERE ${where.join(' AND ')} ORDER BY seq DESC LIMIT @limit`;
  return q.all<AuditRow>(text, {
    tenantId: query.tenantId,
    since: query.since,
    keyId: query.keyId,
    keyName: query.keyName,
    actor: query.actor,
    beforeSeq: query.beforeSeq,
    beforeMac: query.beforeMac,
    limit: query.limit,
  });
}

/**
 * A tenant's records after `afterSeq` in stored order, a batch at a time: the clean-chain check
 * keeps little in memory.
 */
export function auditBatch(q: Queryable, tenantId: string, afterSeq: number, limit: number): Promise<AuditRow[]> {
  return q.all<AuditRow>(
    'SELECT * FROM audit WHERE tenant_id = @tenantId AND seq > @afterSeq ORDER BY seq LIMIT @limit',
    { tenantId, afterSeq, limit },
  );
}

export function allAuditRows(q: Queryable, tenantId: string): Promise<AuditRow[]> {
  return q.all<AuditRow>('SELECT * FROM audit WHERE tenant_id = @tenantId ORDER BY seq', { tenantId });
}

export function auditRowAt(q: Queryable, tenantId: string, seq: number): Promise<AuditRow | undefined> {
  return q.get<AuditRow>('SELECT * FROM audit WHERE tenant_id = @tenantId AND seq = @seq', { tenantId, seq });
}

/**
 * The record a master key rotation appends to every tenant's chain; `previousHead` is the head
 * ("<seq>:<mac>") the chain had under the old key, before the rotation re-keyed it.
 */
export const KEY_ROTATION_ACTION = 'master-key.rotate';

export async function rotationRecords(
  q: Queryable,
  tenantId: string,
): Promise<Array<{ seq: number; at: string; previousHead: string | null }>> {
  const rows = await q.all<{ seq: number; at: string; details: string }>(
    'SELECT seq, at, details FROM audit WHERE tenant_id = @tenantId AND action = @action ORDER BY seq',
    { tenantId, action: KEY_ROTATION_ACTION },
  );
  return rows.map((r) => {
    const details = JSON.parse(r.details) as { previousHead?: unknown };
    return {
      seq: r.seq,
      at: r.at,
      previousHead: typeof details.previousHead === 'string' ? details.previousHead : null,
    };
  });
}

/**
 * Every record of the tenant's chain MAC'd again under `key`, in order, each linked to the one
 * before it as re-keyed, and the head sealed with it: the chain as it would be had `key` written
 * it. The caller has verified the chain under the old key in the same transaction.
 */
export async function rekeyChain(q: Queryable, tenantId: string, key: Buffer): Promise<number> {
  let previous = GENESIS_MAC;
  let last: { seq: number; mac: string } | undefined;
  let records = 0;
  for (let after = Number.MIN_SAFE_INTEGER; ;) {
    const batch = await auditBatch(q, tenantId, after, REKEY_BATCH);
    for (const row of batch) {
      const mac = auditMac(key, { ...row, prev_mac: previous });
      await q.run('UPDATE audit SET prev_mac = @prev, mac = @mac WHERE tenant_id = @tenantId AND seq = @seq', {
        prev: previous,
        mac,
        tenantId,
        seq: row.seq,
      });
      previous = mac;
      last = { seq: row.seq, mac };
      records++;
    }
    if (batch.length < REKEY_BATCH) break;
    after = last!.seq;
  }
  if (last) await writeAuditHead(q, key, tenantId, last);
  return records;
}
const REKEY_BATCH = 5000;
