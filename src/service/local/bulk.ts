/**
 * Activate, deactivate, delete or extend many keys at once, all or nothing: every key is looked
 * up and judged first (the authorization rule for each, the lifetime policy for an extension),
 * and only then are all of them changed, in one transaction, with one audit record (and the
 * usual bells) per key. A dry run judges the same way and changes nothing.
 */
import type { Operation } from '../../core/authorization.js';
import { inBrownout, outlastedWarning, statusAt } from '../../core/brownout.js';
import { UsageError } from '../../core/errors.js';
import { resolveExpiry } from '../../core/expiry.js';
import { checkBulkSize } from '../../core/keyRefs.js';
import type { KeyRow } from '../../store/keys.js';
import type { BulkAction, BulkRequest, BulkResult, KeyChange, KeyState } from '../types.js';
import { AccessDenied, AccessDeniedMany, authorize, keyFacts } from './authorize.js';
import { checking, keyStatus, writing, type CheckedScope, type LocalContext } from './context.js';
import { alreadyInactive, applyDelete, applyExpiry, applyStatus, checkStatusOptions, recordKeyChange } from './keys.js';
import { mustKey } from './lookups.js';
import { judgeNewExpiry } from './policyCheck.js';

const OPERATIONS: Record<BulkAction['kind'], Operation> = {
  activate: 'key.activate',
  deactivate: 'key.deactivate',
  delete: 'key.delete',
  extend: 'key.extend',
};

function checkRequest(request: BulkRequest): void {
  if (!Array.isArray(request.keys) || request.keys.length === 0 || !request.keys.every((k) => typeof k === 'string'))
    throw new UsageError('name at least one key', { code: 'missing_argument' });
  checkBulkSize(request.keys.length);
  if (!(request.action?.kind in OPERATIONS)) throw new UsageError('unknown bulk action');
}

/** Every key, each once, judged; throws for the first key not found, or for every refusal at once. */
async function judgeAll(
  s: CheckedScope,
  request: BulkRequest,
  operation: Operation,
  expiresAt: string | null | undefined,
): Promise<{ rows: KeyRow[]; warnings: string[] }> {
  const rows: KeyRow[] = [];
  const seen = new Set<string>();
  for (const ref of request.keys) {
    const row = await mustKey(s, ref);
    if (!seen.has(row.id)) rows.push(row);
    seen.add(row.id);
  }
  const denials: AccessDenied[] = [];
  for (const row of rows) {
    const never = expiresAt === null ? { neverExpires: true } : {};
    try {
      authorize(s, { operation, key: await keyFacts(s, row), ...never }, row.id);
    } catch (error) {
      if (!(error instanceof AccessDenied)) throw error;
      denials.push(error);
    }
  }
  if (denials.length > 0) throw new AccessDeniedMany(denials, rows.length);
  // The policy judges the expiry, the same for every key: once, after the rule allowed them all.
  const warnings = expiresAt === undefined ? [] : await judgeNewExpiry(s, expiresAt);
  return { rows, warnings };
}

function stateOf(row: Pick<KeyRow, 'status' | 'expires_at' | 'inactive_until'>, now: Date): KeyState {
  return { status: keyStatus(row, now), expiresAt: row.expires_at };
}

/** What the action does to a key, as a dry run tells it: the stored status or expiry it would set. */
function predicted(action: BulkAction, row: KeyRow, expiresAt: string | null | undefined, now: Date): KeyChange {
  const change = { accessKeyId: row.id, name: row.name, owner: row.owner_email, from: stateOf(row, now) };
  if (action.kind === 'delete') return { ...change, to: null, changed: true };
  if (action.kind === 'extend')
    return { ...change, to: stateOf({ ...row, expires_at: expiresAt! }, now), changed: row.expires_at !== expiresAt };
  const status = action.kind === 'activate' ? 'active' : 'inactive';
  // Activating ends a brownout, deactivating makes one last until activated (as applyStatus does).
  const was = statusAt(row.status, row.inactive_until, now);
  const browned = inBrownout(row.status, row.inactive_until, now);
  if (action.kind === 'deactivate' && action.forMs !== undefined) {
    if (was === 'inactive' && !browned) throw alreadyInactive(row.id);
    const outlasted = browned && outlastedWarning(row.id, row.inactive_until, now, action.forMs) !== null;
    return { ...change, to: stateOf({ ...row, status }, now), changed: !outlasted };
  }
  const changed = was !== status || (status === 'inactive' && browned);
  return { ...change, to: stateOf({ ...row, status, inactive_until: null }, now), changed };
}

/** The keys whose running brownout already ends after one of `forMs` would: each says so. */
function outlasted(rows: KeyRow[], now: Date, forMs: number): string[] {
  return rows.flatMap((row) =>
    inBrownout(row.status, row.inactive_until, now)
      ? (outlastedWarning(row.id, row.inactive_until, now, forMs) ?? [])
      : [],
  );
}

export async function bulkKeys(ctx: LocalContext, request: BulkRequest): Promise<BulkResult> {
  checkRequest(request);
  const { action } = request;
  const operation = OPERATIONS[action.kind];
  const forMs = action.kind === 'deactivate' ? checkStatusOptions('inactive', action) : undefined;
  const expiresAt =
    action.kind === 'extend' ? (resolveExpiry(action.expiry, ctx.now())?.toISOString() ?? null) : undefined;
  // The operation's permission before any lookup: without it, nothing is learnt about any key.
  authorize(ctx, { operation });
  const result = (keys: KeyChange[], warnings: string[], dryRun: boolean): BulkResult => ({
    action: action.kind,
    dryRun,
    keys,
    warnings,
  });
  if (request.dryRun)
    return checking(ctx, async (s) => {
      const { rows, warnings } = await judgeAll(s, request, operation, expiresAt);
      if (forMs !== undefined) warnings.push(...outlasted(rows, s.now(), forMs));
      return result(
        rows.map((row) => predicted(action, row, expiresAt, s.now())),
        warnings,
        true,
      );
    });
  return writing(ctx, async (s) => {
    const { rows, warnings } = await judgeAll(s, request, operation, expiresAt);
    const at = s.now().toISOString();
    const keys: KeyChange[] = [];
    for (const row of rows) {
      const change = predicted(action, row, expiresAt, s.now());
      if (action.kind === 'delete') {
        await applyDelete(s, row);
        keys.push(change);
        continue;
      }
      const details =
        action.kind === 'extend'
          ? await applyExpiry(s, row, expiresAt!, at)
          : await applyStatus(s, row, action.kind === 'activate' ? 'active' : 'inactive', at, forMs, warnings);
      if (details !== null) await recordKeyChange(s, operation, row, details);
      // An extension is recorded even to the same date, as `akm extend` does; it changes nothing.
      keys.push(action.kind === 'extend' ? change : { ...change, changed: details !== null });
    }
    return result(keys, warnings, false);
  });
}
