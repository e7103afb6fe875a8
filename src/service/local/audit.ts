/**
 * Reading and verifying the tenant's audit trail on the local store, and checking the
 * integrity of the rows that decide authentication and authorization; all need audit:read.
 */
import { UnavailableError, UsageError } from '../../core/errors.js';
import { isAccessKeyId } from '../../core/credentials.js';
import { keyReference } from '../../core/validate.js';
import { headIsSealed, KEY_ROTATION_ACTION, queryAudit, readAuditHead, type AuditRow } from '../../store/audit.js';
import { formatAnchor, verifyChain, type ChainAnchor } from '../../store/auditVerify.js';
import { findTamperedRows } from '../../store/integrity.js';
import type { AuditHead, AuditQuery, AuditRecord, AuditVerification, AuditVerifyOptions, Page } from '../types.js';
import { authorize } from './authorize.js';
import { checking, pageLimit, reading, type LocalContext } from './context.js';

/**
 * Counts over every key of the tenant, canaries included: left out for anyone but an
 * administrator, whom they would tell how many canaries there are.
 */
const TENANT_COUNTS: Record<string, readonly string[]> = {
  [KEY_ROTATION_ACTION]: ['secrets', 'rows', 'auditRecords', 'tenants'],
};

function detailsFor(row: AuditRow, admin: boolean): Record<string, unknown> {
  const details = JSON.parse(row.details) as Record<string, unknown>;
  if (!admin) for (const field of TENANT_COUNTS[row.action] ?? []) delete details[field];
  return details;
}

/** Sequence numbers and tenant-wide counts for administrators only. */
function toRecord(row: AuditRow, admin: boolean): AuditRecord {
  return {
    seq: admin ? row.seq : null,
    at: row.at,
    tenantId: row.tenant_id,
    actor: row.actor,
    action: row.action,
    target: row.target,
    details: detailsFor(row, admin),
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

/**
 * Administrators page by sequence number. Anyone else sees neither numbers nor numbered cursors
 * (they would show the gaps the records about canary keys leave): their cursor is the MAC of
 * the last record shown.
 */
function parseCursor(text: string, numbered: boolean): { beforeSeq: number } | { beforeMac: string } {
  if (numbered && /^\d{1,15}$/.test(text)) return { beforeSeq: Number(text) };
  if (!numbered && /^[A-Za-z0-9_-]{43}$/.test(text)) return { beforeMac: text };
  throw new UsageError('invalid page cursor');
}

export async function listAudit(ctx: LocalContext, query: AuditQuery = {}): Promise<Page<AuditRecord>> {
  authorize(ctx, { operation: 'audit.list' });
  const limit = pageLimit(query.limit);
  const key = query.key === undefined ? undefined : keyReference(query.key);
  // To anyone but an administrator canary keys do not exist, nor does anything that happened to them.
  const admin = ctx.actor.admin;
  const filter = {
    tenantId: ctx.tenant.id,
    since: query.since === undefined ? undefined : parseSince(query.since),
    // An id matches the record's target; a name matches what the key was called when it changed,
    // so the history of a deleted key can still be found by name.
    keyId: key && isAccessKeyId(key) ? key : undefined,
    keyName: key && !isAccessKeyId(key) ? key : undefined,
    actor: query.actor?.trim(),
    ...(query.after === undefined ? {} : parseCursor(query.after, admin)),
    withoutCanaries: !admin,
    limit,
  };
  const rows = await reading(ctx, (s) => queryAudit(s.q, filter));
  const items = rows.map((row) => toRecord(row, admin));
  const last = rows[rows.length - 1];
  return rows.length === limit && last ? { items, next: admin ? String(last.seq) : last.mac } : { items };
}

export function parseAnchor(text: string): ChainAnchor {
  const match = /^(\d{1,15}):([A-Za-z0-9_-]{43})$/.exec(text.trim());
  if (!match)
    throw new UsageError('--expect-head needs the "<seq>:<mac>" printed by `akm audit head` or `akm audit verify`', {
      code: 'bad_anchor',
    });
  return { seq: Number(match[1]), mac: match[2]! };
}

export async function verifyAudit(ctx: LocalContext, options: AuditVerifyOptions = {}): Promise<AuditVerification> {
  authorize(ctx, { operation: 'audit.verify' });
  const expected = options.expectHead === undefined ? undefined : parseAnchor(options.expectHead);
  const keys = await ctx.loadKeys();
  const report = await verifyChain(ctx.store, keys.audit, ctx.tenant.id, expected);
  const alteredRows = await checking(ctx, (s) => findTamperedRows(s.q, ctx.tenant.id));
  return {
    ok: report.problems.length === 0 && alteredRows.length === 0,
    tenantId: ctx.tenant.id,
    records: report.records,
    head: report.head ? formatAnchor(report.head) : null,
    problems: report.problems,
    alteredRows,
  };
}

/** The sealed head as it stands, without walking the chain: refused when its seal does not hold. */
export async function auditHead(ctx: LocalContext): Promise<AuditHead> {
  authorize(ctx, { operation: 'audit.verify' });
  const keys = await ctx.loadKeys();
  const head = await reading(ctx, (s) => readAuditHead(s.q, ctx.tenant.id));
  if (!headIsSealed(keys.audit, head, ctx.tenant.id)) {
    throw new UnavailableError(
      `the sealed head of the audit trail of ${ctx.tenant.id} is ${head ? 'altered' : 'missing'}`,
      {
        hint: 'run `akm audit verify` to see what else was changed',
        code: 'audit_tampered',
      },
    );
  }
  return { tenantId: ctx.tenant.id, head: formatAnchor(head) };
}
