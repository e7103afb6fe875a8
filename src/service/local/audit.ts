/** Reading and verifying the audit trail on the local store; both need audit:read. */
import { UsageError } from '../../core/errors.js';
import { isAccessKeyId } from '../../core/credentials.js';
import { queryAudit, type AuditRow } from '../../store/audit.js';
import { verifyChain, type ChainAnchor } from '../../store/auditVerify.js';
import type { AuditQuery, AuditRecord, AuditVerification, AuditVerifyOptions, Page } from '../types.js';
import { authorize } from './authorize.js';
import { pageLimit, reading, type LocalContext } from './context.js';

function toRecord(row: AuditRow): AuditRecord {
  return {
    seq: row.seq,
    at: row.at,
    tenantId: row.tenant_id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: JSON.parse(row.details) as Record<string, unknown>,
    source: row.source,
  };
}

function parseSince(text: string): string {
  const at = Date.parse(text);
  if (Number.isNaN(at))
    throw new UsageError(`--since: cannot read "${text.slice(0, 40)}" as a date`, {
      hint: 'use YYYY-MM-DD or an ISO timestamp such as 2027-01-31T12:00:00Z',
    });
  return new Date(at).toISOString();
}

function parseCursor(text: string): number {
  if (!/^\d{1,15}$/.test(text)) throw new UsageError('invalid page cursor');
  return Number(text);
}

export async function listAudit(ctx: LocalContext, query: AuditQuery = {}): Promise<Page<AuditRecord>> {
  authorize(ctx, { operation: 'audit.list' });
  const limit = pageLimit(query.limit);
  const key = query.key?.trim();
  const filter = {
    tenantId: ctx.tenant.id,
    since: query.since === undefined ? undefined : parseSince(query.since),
    // An id matches the record's target; a name matches what the key was called when it changed,
    // so the history of a deleted key can still be found by name.
    keyId: key && isAccessKeyId(key) ? key : undefined,
    keyName: key && !isAccessKeyId(key) ? key : undefined,
    actor: query.actor?.trim(),
    beforeSeq: query.after === undefined ? undefined : parseCursor(query.after),
    limit,
  };
  const rows = await reading(ctx, (s) => queryAudit(s.q, filter));
  const items = rows.map(toRecord);
  const last = rows[rows.length - 1];
  return rows.length === limit && last ? { items, next: String(last.seq) } : { items };
}

/** "<seq>:<mac>", as verifyAudit prints the head. */
export function formatAnchor(anchor: ChainAnchor): string {
  return `${anchor.seq}:${anchor.mac}`;
}

export function parseAnchor(text: string): ChainAnchor {
  const match = /^(\d{1,15}):([A-Za-z0-9_-]{43})$/.exec(text.trim());
  if (!match)
    throw new UsageError('--expect-head needs the "<seq>:<mac>" printed by an earlier `akm audit verify`', {
      code: 'bad_anchor',
    });
  return { seq: Number(match[1]), mac: match[2]! };
}

export async function verifyAudit(ctx: LocalContext, options: AuditVerifyOptions = {}): Promise<AuditVerification> {
  authorize(ctx, { operation: 'audit.verify' });
  const expected = options.expectHead === undefined ? undefined : parseAnchor(options.expectHead);
  const report = await verifyChain(ctx.store, (await ctx.loadKeys()).audit, expected);
  return {
    ok: report.problems.length === 0,
    records: report.records,
    head: report.head ? formatAnchor(report.head) : null,
    problems: report.problems,
  };
}
