/**
 * Listing keys and the credential report: the keys in the actor's reach that pass the filters,
 * a page at a time in the order asked for. Rows the store cannot filter (out of reach, a name
 * glob, a finding) are skipped as they are read, so a page is filled from as many store pages
 * as it takes, and the cursor is the last row shown.
 */
import { isAdministrator, type Operation } from '../../core/authorization.js';
import { UsageError } from '../../core/errors.js';
import { DEFAULT_UNUSED_DAYS, keyFindings, reportRow, type ReportRow } from '../../core/findings.js';
import { globMatcher } from '../../core/glob.js';
import { NO_POLICY, type LifetimePolicy } from '../../core/policy.js';
import * as keyListing from '../../store/keyListing.js';
import { sourceLabel } from '../../core/source.js';
import type { KeyFilter, KeyView, Page, ReportQuery, SourceUse } from '../types.js';
import { authorize, inReach, listedKeyFacts } from './authorize.js';
import { checking, keyStatus, reading, toKeyView, type LocalContext } from './context.js';
import { mustUser } from './lookups.js';
import { currentPolicy } from './policyCheck.js';
import { lastUseSources } from './usage.js';

export const PAGE_SIZE = 1000;
const DAY_MS = 86_400_000;

function encodeCursor(row: keyListing.SortedKeyRow): string {
  return Buffer.from(JSON.stringify([row.sort_value, row.id])).toString('base64url');
}

function decodeCursor(text: string): { value: string; id: string } {
  try {
    const [value, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [unknown, unknown];
    if (typeof value === 'string' && typeof id === 'string') return { value, id };
  } catch {
    // fall through
  }
  throw new UsageError('invalid page cursor');
}

interface Judged {
  row: keyListing.SortedKeyRow;
  /** the report's: each key's most recent use of its current secret, and where from */
  lastUses: Map<string, SourceUse>;
  anyPermission: boolean;
  policy: LifetimePolicy;
  now: Date;
  unusedForDays: number;
}

function findingFacts(j: Judged) {
  const { row } = j;
  return {
    status: keyStatus(row, j.now),
    createdAt: row.created_at,
    expiresAt: row.expires_at,
    lastUsedAt: row.last_used_at,
    secretCreatedAt: row.secret_created_at ?? row.created_at,
    anyPermission: j.anyPermission,
  };
}

/** The keys in reach that pass `filter`, one page of them, each made into what the caller returns. */
async function pageOfKeys<T>(
  ctx: LocalContext,
  operation: Extract<Operation, 'key.list' | 'key.report'>,
  filter: KeyFilter,
  options: { page: { after?: string; limit?: number }; unusedForDays: number; judged: boolean },
  shape: (judged: Judged) => T,
): Promise<Page<T>> {
  authorize(ctx, { operation });
  const now = ctx.now();
  const limit = Math.min(Math.max(options.page.limit ?? PAGE_SIZE, 1), PAGE_SIZE);
  const after = options.page.after ? decodeCursor(options.page.after) : undefined;
  const nameMatches = filter.name === undefined ? undefined : globMatcher(filter.name);
  // A listing is for display and needs no master key; naming an owner looks the user up, checked.
  const owner = filter.owner === undefined ? undefined : await checking(ctx, (c) => mustUser(c, filter.owner!));
  return reading(ctx, async (s) => {
    let ownerId = owner?.id;
    // Administrators see every key. Anyone else sees the keys in their reach, judged row by row;
    // a user's key reaches only its owner's keys, so the query can skip the others.
    const everyKey = isAdministrator(s.actor.permissions);
    if (!everyKey && s.actor.userId !== null) {
      if (ownerId !== undefined && ownerId !== s.actor.userId) return { items: [] };
      ownerId = s.actor.userId;
    }
    const judged = options.judged || filter.finding !== undefined;
    const policy = judged ? await currentPolicy(s.q, s.tenant.id) : NO_POLICY;
    const skips = !everyKey || nameMatches !== undefined || filter.finding !== undefined;
    const query: keyListing.ListQuery = {
      tenantId: s.tenant.id,
      now: now.toISOString(),
      status: filter.status,
      type: filter.type,
      ownerId,
      expiringBefore:
        filter.expiringWithinDays === undefined
          ? undefined
          : new Date(now.getTime() + filter.expiringWithinDays * DAY_MS).toISOString(),
      unusedBefore:
        filter.unusedForDays === undefined
          ? undefined
          : new Date(now.getTime() - filter.unusedForDays * DAY_MS).toISOString(),
      neverExpires: filter.neverExpires,
      sort: filter.sort,
      after,
      // Read a thousand at a time when rows may be skipped, even for a small page.
      limit: skips ? PAGE_SIZE : limit,
      // Reach needs every permission of a key; a finding only whether it has any.
      withPermissions: !everyKey,
      withAnyPermission: everyKey && judged,
      withoutAssignments: options.judged,
    };
    const items: T[] = [];
    for (;;) {
      const rows = await keyListing.listKeys(s.q, query);
      const lastUses = options.judged
        ? await lastUseSources(
            s,
            rows.map((r) => r.id),
          )
        : new Map<string, SourceUse>();
      for (const row of rows) {
        if (!everyKey && !inReach(s, listedKeyFacts(row, now))) continue;
        if (nameMatches && !nameMatches(row.name)) continue;
        const anyPermission = row.permissions ? row.permissions !== '[]' : row.any_permission === 1;
        const j: Judged = { row, lastUses, anyPermission, policy, now, unusedForDays: options.unusedForDays };
        if (filter.finding && !keyFindings(findingFacts(j), j).includes(filter.finding)) continue;
        items.push(shape(j));
        if (items.length === limit) return { items, next: encodeCursor(row) };
      }
      const last = rows[rows.length - 1];
      if (rows.length < query.limit || !last) return { items };
      query.after = { value: last.sort_value, id: last.id };
    }
  });
}

export function listKeys(
  ctx: LocalContext,
  filter: KeyFilter,
  page: { after?: string; limit?: number } = {},
): Promise<Page<KeyView>> {
  const unusedForDays = filter.unusedForDays ?? DEFAULT_UNUSED_DAYS;
  return pageOfKeys(ctx, 'key.list', filter, { page, unusedForDays, judged: false }, ({ row, now }) =>
    toKeyView(row, JSON.parse(row.groups) as string[], JSON.parse(row.roles) as string[], now),
  );
}

/** Where the last use of a key's current secret came from, when a server recorded it. */
function lastUsedFrom(use: SourceUse | undefined): string | null {
  return use === undefined ? null : sourceLabel(use);
}

export function reportKeys(
  ctx: LocalContext,
  query: ReportQuery,
  page: { after?: string; limit?: number } = {},
): Promise<Page<ReportRow>> {
  const unusedForDays = query.unusedForDays ?? DEFAULT_UNUSED_DAYS;
  if (!Number.isInteger(unusedForDays) || unusedForDays < 1 || unusedForDays > 3650)
    throw new UsageError('--unused-for must be a whole number of days from 1 to 3650');
  return pageOfKeys(ctx, 'key.report', {}, { page, unusedForDays, judged: true }, (j) =>
    reportRow(
      {
        ...findingFacts(j),
        accessKeyId: j.row.id,
        name: j.row.name,
        description: j.row.description,
        owner: j.row.owner_email,
        type: j.row.type,
        lastUsedFrom: lastUsedFrom(j.lastUses.get(j.row.id)),
      },
      j,
    ),
  );
}
