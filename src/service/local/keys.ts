/** Key lifecycle on the local store: each operation reads, decides, writes and records in one transaction. */
import { isAdministrator, type Operation, type Request } from '../../core/authorization.js';
import { ConflictError, UsageError } from '../../core/errors.js';
import { generateAccessKeyId } from '../../core/credentials.js';
import { graceEnd, inGracePeriod, MAX_GRACE_MS, resolveExpiry, type ExpiryChoice } from '../../core/expiry.js';
import { canOwnAnother, MAX_KEYS_PER_USER } from '../../core/limits.js';
import { effectivePermissions, permissionSources } from '../../core/permissions.js';
import * as validate from '../../core/validate.js';
import { sealedForDisplay, openSecret } from '../../crypto/seal.js';
import * as keysTable from '../../store/keys.js';
import type { AssignChanges, CreateKeyInput, IssuedKey, KeyDetails, KeyFilter, KeyView, Page } from '../types.js';
import { authorize, inReach, keyFacts, listedKeyFacts } from './authorize.js';
import { recordChange } from './changes.js';
import { defaultOwner, inTransaction, toKeyView, type LocalContext } from './context.js';
import { keyStringFor, mintSecret } from './issue.js';
import { mustGroup, mustKey, mustRole, mustUser } from './lookups.js';

function view(ctx: LocalContext, row: keysTable.KeyRow): KeyView {
  return toKeyView(row, keysTable.keyGroupNames(ctx.db, row.id), keysTable.keyRoleNames(ctx.db, row.id), ctx.now());
}

function reload(ctx: LocalContext, id: string): keysTable.KeyRow {
  return keysTable.getKey(ctx.db, ctx.tenant.id, id)!;
}

function groupIds(ctx: LocalContext, names: string[]): Array<{ id: number; name: string }> {
  return names.map((name) => mustGroup(ctx, name));
}

function roleIds(ctx: LocalContext, names: string[]): Array<{ id: number; name: string }> {
  return names.map((name) => mustRole(ctx, name));
}

function isUniqueViolation(error: unknown): boolean {
  return (error as { code?: string }).code === 'SQLITE_CONSTRAINT_UNIQUE';
}

export function createKey(ctx: LocalContext, input: CreateKeyInput): IssuedKey {
  const name = validate.entityName(input.name, 'key name');
  if (input.type !== 'access' && input.type !== 'api')
    throw new UsageError(`unknown key type "${validate.printable(String(input.type))}"`, { hint: 'use access or api' });
  const ownerEmail = input.owner === null ? null : validate.email(input.owner ?? defaultOwner(ctx));
  authorize(ctx, { operation: 'key.create' });
  const expiresAt = resolveExpiry(input.expiry, ctx.now());
  const accessKeyId = generateAccessKeyId();
  // Crypto happens before the write lock is taken, keeping the transaction short.
  const fresh = mintSecret(ctx, accessKeyId);

  const row = inTransaction(ctx, () => {
    const owner = ownerEmail === null ? null : mustUser(ctx, ownerEmail, `add them first: akm users add ${ownerEmail}`);
    const ownerId = owner?.id ?? null;
    const groups = groupIds(ctx, input.groups);
    const roles = roleIds(ctx, input.roles);
    authorize(
      ctx,
      {
        operation: 'key.create',
        owner: ownerId,
        grants: { roles: roles.map((r) => r.name), groups: groups.map((g) => g.name) },
        neverExpires: expiresAt === null,
      },
      owner?.email ?? null,
    );
    // Checked and inserted under the same write lock: the limit holds under concurrency.
    if (ownerId !== null && !canOwnAnother(keysTable.countOwnedKeys(ctx.db, ownerId))) {
      throw new ConflictError(`${ownerEmail} already owns ${MAX_KEYS_PER_USER} keys, the most a user may have`, {
        hint:
          `delete one first (akm list --owner ${ownerEmail}; akm delete <key>), ` + 'or rotate an existing key instead',
        code: 'key_limit',
      });
    }
    if (keysTable.nameTaken(ctx.db, ctx.tenant.id, ownerId, name)) {
      throw new ConflictError(
        `a key named "${validate.printable(name)}" already exists` +
          (ownerEmail ? ` for ${ownerEmail}` : ' at tenant level'),
        { hint: 'choose another --name', code: 'duplicate_name' },
      );
    }
    const at = ctx.now().toISOString();
    try {
      keysTable.insertKey(ctx.db, {
        id: accessKeyId,
        tenant_id: ctx.tenant.id,
        name,
        type: input.type,
        owner_id: ownerId,
        secret_sealed: fresh.sealed,
        secret_digest: fresh.digest,
        expires_at: expiresAt?.toISOString() ?? null,
        at,
        by: ctx.actor.label,
      });
    } catch (error) {
      if (isUniqueViolation(error))
        throw new ConflictError(`a key named "${validate.printable(name)}" already exists`, {
          hint: 'choose another --name',
          code: 'duplicate_name',
        });
      throw error;
    }
    for (const g of groups) keysTable.addKeyGroup(ctx.db, accessKeyId, g.id);
    for (const r of roles) keysTable.addKeyRole(ctx.db, accessKeyId, r.id);
    const created = reload(ctx, accessKeyId);
    recordChange(ctx, {
      action: 'key.create',
      target: accessKeyId,
      details: {
        name,
        type: input.type,
        owner: ownerEmail,
        expiresAt: created.expires_at,
        groups: groups.map((g) => g.name),
        roles: roles.map((r) => r.name),
      },
      key: { ...created, modified_by: created.created_by },
    });
    return created;
  });
  return { ...view(ctx, row), secretKey: fresh.secretKey, keyString: keyStringFor(ctx, accessKeyId, fresh.secretKey) };
}

export const PAGE_SIZE = 1000;

function encodeCursor(row: { created_at: string; id: string }): string {
  return Buffer.from(JSON.stringify([row.created_at, row.id])).toString('base64url');
}

function decodeCursor(text: string): { createdAt: string; id: string } {
  try {
    const [createdAt, id] = JSON.parse(Buffer.from(text, 'base64url').toString('utf8')) as [string, string];
    if (typeof createdAt === 'string' && typeof id === 'string') return { createdAt, id };
  } catch {
    // fall through
  }
  throw new UsageError('invalid page cursor');
}

export function listKeys(
  ctx: LocalContext,
  filter: KeyFilter,
  page: { after?: string; limit?: number } = {},
): Page<KeyView> {
  authorize(ctx, { operation: 'key.list' });
  const now = ctx.now();
  let ownerId: number | undefined;
  if (filter.owner !== undefined) {
    ownerId = mustUser(ctx, filter.owner).id;
  }
  // Administrators see every key. Anyone else sees the keys in their reach, judged row by row;
  // a user's key reaches only its owner's keys, so the query can skip the others.
  const everyKey = isAdministrator(ctx.actor.permissions);
  if (!everyKey && ctx.actor.userId !== null) {
    if (ownerId !== undefined && ownerId !== ctx.actor.userId) return { items: [] };
    ownerId = ctx.actor.userId;
  }
  const limit = Math.min(Math.max(page.limit ?? PAGE_SIZE, 1), PAGE_SIZE);
  const query: keysTable.ListQuery = {
    tenantId: ctx.tenant.id,
    now: now.toISOString(),
    status: filter.status,
    type: filter.type,
    ownerId,
    expiringBefore:
      filter.expiringWithinDays === undefined
        ? undefined
        : new Date(now.getTime() + filter.expiringWithinDays * 86_400_000).toISOString(),
    after: page.after ? decodeCursor(page.after) : undefined,
    // Rows out of reach are skipped, so a page is filled from as many store pages as it takes (read
    // a thousand at a time, even for a small page); the cursor is the last row shown, and the next
    // page starts right after it.
    limit: everyKey ? limit : PAGE_SIZE,
    withPermissions: !everyKey,
  };
  const items: KeyView[] = [];
  for (;;) {
    const rows = keysTable.listKeys(ctx.db, query);
    for (const row of rows) {
      if (!everyKey && !inReach(ctx, listedKeyFacts(row))) continue;
      items.push(toKeyView(row, JSON.parse(row.groups) as string[], JSON.parse(row.roles) as string[], now));
      if (items.length === limit) return { items, next: encodeCursor(row) };
    }
    const last = rows[rows.length - 1];
    if (rows.length < query.limit || !last) return { items };
    query.after = { createdAt: last.created_at, id: last.id };
  }
}

/**
 * The key an operation acts on, once the actor may: first the operation's permission (before
 * any lookup: no permission, nothing learnt), then the key, then the rule on this key.
 */
function targetKey(
  ctx: LocalContext,
  ref: string,
  operation: Operation,
  more: Omit<Request, 'operation' | 'key'> = {},
): keysTable.KeyRow {
  authorize(ctx, { operation });
  const row = mustKey(ctx, ref);
  authorize(ctx, { operation, key: keyFacts(ctx, row), ...more }, row.id);
  return row;
}

export function showKey(ctx: LocalContext, ref: string): KeyDetails {
  const row = targetKey(ctx, ref, 'key.show');
  const now = ctx.now();
  return {
    ...view(ctx, row),
    permissions: effectivePermissions(keysTable.keyRoleGrants(ctx.db, row.id)),
    previousSecretValidUntil: inGracePeriod(row.previous_valid_until, now) ? row.previous_valid_until : null,
  };
}

export function keyPermissions(ctx: LocalContext, ref: string) {
  const row = targetKey(ctx, ref, 'key.permissions');
  return { accessKeyId: row.id, permissions: permissionSources(keysTable.keyRoleGrants(ctx.db, row.id)) };
}

/** Shared shape of the simple modifications: resolve, check, change, record, return the new view. */
function modifyKey(
  ctx: LocalContext,
  ref: string,
  operation: 'key.extend' | 'key.activate' | 'key.deactivate',
  change: (row: keysTable.KeyRow, at: string) => Record<string, unknown> | null,
  more: Omit<Request, 'operation' | 'key'> = {},
): KeyView {
  const row = inTransaction(ctx, () => {
    const before = targetKey(ctx, ref, operation, more);
    const at = ctx.now().toISOString();
    const details = change(before, at);
    if (details !== null)
      recordChange(ctx, {
        action: operation,
        target: before.id,
        details: { name: before.name, ...details },
        key: before,
      });
    return reload(ctx, before.id);
  });
  return view(ctx, row);
}

export function extendKey(ctx: LocalContext, ref: string, expiry: ExpiryChoice): KeyView {
  const expiresAt = resolveExpiry(expiry, ctx.now())?.toISOString() ?? null;
  return modifyKey(
    ctx,
    ref,
    'key.extend',
    (row, at) => {
      keysTable.updateExpiry(ctx.db, row.id, expiresAt, at, ctx.actor.label);
      return { from: row.expires_at, to: expiresAt };
    },
    { neverExpires: expiresAt === null },
  );
}

export function setKeyStatus(ctx: LocalContext, ref: string, status: 'active' | 'inactive'): KeyView {
  const byAdmin = ctx.actor.admin;
  return modifyKey(ctx, ref, status === 'active' ? 'key.activate' : 'key.deactivate', (row, at) => {
    // Already so: nothing to do, unless an administrator now takes over a deactivation, so that
    // only an administrator can undo it.
    const takeOver = status === 'inactive' && byAdmin && row.deactivated_by_admin === 0;
    if (row.status === status && !takeOver) return null;
    keysTable.updateStatus(ctx.db, row.id, status, byAdmin, at, ctx.actor.label);
    return { from: row.status, to: status };
  });
}

export function assignKey(ctx: LocalContext, ref: string, changes: AssignChanges): KeyView {
  const total =
    changes.addGroups.length + changes.addRoles.length + changes.removeGroups.length + changes.removeRoles.length;
  if (total === 0)
    throw new UsageError('nothing to assign', { hint: 'pass --group, --role, --remove-group or --remove-role' });
  const row = inTransaction(ctx, () => {
    authorize(ctx, { operation: 'key.assign' });
    const addGroups = groupIds(ctx, changes.addGroups);
    const addRoles = roleIds(ctx, changes.addRoles);
    const removeGroups = groupIds(ctx, changes.removeGroups);
    const removeRoles = roleIds(ctx, changes.removeRoles);
    const before = targetKey(ctx, ref, 'key.assign', {
      grants: { roles: addRoles.map((r) => r.name), groups: addGroups.map((g) => g.name) },
    });
    const id = before.id;
    const applied = {
      addedGroups: addGroups.filter((g) => keysTable.addKeyGroup(ctx.db, id, g.id)).map((g) => g.name),
      addedRoles: addRoles.filter((r) => keysTable.addKeyRole(ctx.db, id, r.id)).map((r) => r.name),
      removedGroups: removeGroups.filter((g) => keysTable.removeKeyGroup(ctx.db, id, g.id)).map((g) => g.name),
      removedRoles: removeRoles.filter((r) => keysTable.removeKeyRole(ctx.db, id, r.id)).map((r) => r.name),
    };
    if (Object.values(applied).some((list) => list.length > 0)) {
      keysTable.touchKey(ctx.db, id, ctx.now().toISOString(), ctx.actor.label);
      recordChange(ctx, { action: 'key.assign', target: id, details: { name: before.name, ...applied }, key: before });
    }
    return reload(ctx, id);
  });
  return view(ctx, row);
}

export function rotateKey(ctx: LocalContext, ref: string, graceMs: number): IssuedKey {
  // The front ends parse --grace, but the service is the API: a negative grace would rotate at
  // once, NaN would throw a RangeError mid-transaction, and a huge one would keep the old secret
  // alive far past the 30 days the CLI allows.
  if (!Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    throw new UsageError('the grace period must be a whole number of milliseconds from 0 to 30 days', {
      hint: 'e.g. --grace 12h',
      code: 'invalid_grace',
    });
  }
  let secretKey = '';
  let graceUntil: string | null = null;
  const row = inTransaction(ctx, () => {
    const before = targetKey(ctx, ref, 'key.rotate');
    const now = ctx.now();
    const fresh = mintSecret(ctx, before.id);
    secretKey = fresh.secretKey;
    graceUntil = graceEnd(now, graceMs, before.expires_at ? new Date(before.expires_at) : null)?.toISOString() ?? null;
    keysTable.replaceSecret(ctx.db, before.id, fresh, graceUntil, now.toISOString(), ctx.actor.label);
    recordChange(ctx, {
      action: 'key.rotate',
      target: before.id,
      details: { name: before.name, previousSecretValidUntil: graceUntil },
      key: before,
    });
    return reload(ctx, before.id);
  });
  return {
    ...view(ctx, row),
    secretKey,
    keyString: keyStringFor(ctx, row.id, secretKey),
    previousSecretValidUntil: graceUntil,
  };
}

export function copyKey(ctx: LocalContext, ref: string) {
  const row = targetKey(ctx, ref, 'key.copy');
  // Opening proves the sealed secret is intact and bound to this key before we hand it out.
  openSecret(ctx.keys(), row.tenant_id, row.id, row.secret_sealed);
  return {
    accessKeyId: row.id,
    tenantId: row.tenant_id,
    keyString: keyStringFor(ctx, row.id, sealedForDisplay(row.secret_sealed)),
  };
}

export function deleteKey(ctx: LocalContext, ref: string): KeyView {
  return inTransaction(ctx, () => {
    const before = targetKey(ctx, ref, 'key.delete');
    const gone = view(ctx, before);
    keysTable.deleteKey(ctx.db, before.id);
    recordChange(ctx, {
      action: 'key.delete',
      target: before.id,
      details: { name: before.name, owner: before.owner_email },
      key: before,
    });
    return gone;
  });
}
