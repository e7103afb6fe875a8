/** Key lifecycle on the local store: each operation reads, decides, writes and records in one transaction. */
import { isAdministrator, type Operation, type Request } from '../../core/authorization.js';
import { UsageError } from '../../core/errors.js';
import { graceEnd, inGracePeriod, MAX_GRACE_MS, resolveExpiry, type ExpiryChoice } from '../../core/expiry.js';
import { effectivePermissions, permissionSources } from '../../core/permissions.js';
import { sealedForDisplay, openSecret } from '../../crypto/seal.js';
import * as keysTable from '../../store/keys.js';
import type { AssignChanges, IssuedKey, KeyDetails, KeyFilter, KeyView, Page } from '../types.js';
import { authorize, inReach, keyFacts, listedKeyFacts } from './authorize.js';
import { recordChange } from './changes.js';
import {
  checking,
  reading,
  toKeyView,
  writing,
  type CheckedScope,
  type LocalContext,
  type WriteScope,
} from './context.js';
import { keyStringFor, mintSecret } from './issue.js';
import { groupIds, reload, roleIds, view } from './keyRows.js';
import { mustKey, mustUser } from './lookups.js';

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

export async function listKeys(
  ctx: LocalContext,
  filter: KeyFilter,
  page: { after?: string; limit?: number } = {},
): Promise<Page<KeyView>> {
  authorize(ctx, { operation: 'key.list' });
  const now = ctx.now();
  const limit = Math.min(Math.max(page.limit ?? PAGE_SIZE, 1), PAGE_SIZE);
  const after = page.after ? decodeCursor(page.after) : undefined;
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
    const query: keysTable.ListQuery = {
      tenantId: s.tenant.id,
      now: now.toISOString(),
      status: filter.status,
      type: filter.type,
      ownerId,
      expiringBefore:
        filter.expiringWithinDays === undefined
          ? undefined
          : new Date(now.getTime() + filter.expiringWithinDays * 86_400_000).toISOString(),
      after,
      // Rows out of reach are skipped, so a page is filled from as many store pages as it takes (read
      // a thousand at a time, even for a small page); the cursor is the last row shown, and the next
      // page starts right after it.
      limit: everyKey ? limit : PAGE_SIZE,
      withPermissions: !everyKey,
    };
    const items: KeyView[] = [];
    for (;;) {
      const rows = await keysTable.listKeys(s.q, query);
      for (const row of rows) {
        if (!everyKey && !inReach(s, listedKeyFacts(row))) continue;
        items.push(toKeyView(row, JSON.parse(row.groups) as string[], JSON.parse(row.roles) as string[], now));
        if (items.length === limit) return { items, next: encodeCursor(row) };
      }
      const last = rows[rows.length - 1];
      if (rows.length < query.limit || !last) return { items };
      query.after = { createdAt: last.created_at, id: last.id };
    }
  });
}

/**
 * The key an operation acts on, once the actor may: first the operation's permission (before
 * any lookup: no permission, nothing learnt), then the key, then the rule on this key.
 */
async function targetKey(
  s: CheckedScope,
  ref: string,
  operation: Operation,
  more: Omit<Request, 'operation' | 'key'> = {},
): Promise<keysTable.KeyRow> {
  authorize(s, { operation });
  const row = await mustKey(s, ref);
  authorize(s, { operation, key: await keyFacts(s, row), ...more }, row.id);
  return row;
}

export function showKey(ctx: LocalContext, ref: string): Promise<KeyDetails> {
  return checking(ctx, async (s) => {
    const row = await targetKey(s, ref, 'key.show');
    const now = s.now();
    return {
      ...(await view(s, row)),
      permissions: effectivePermissions(await keysTable.keyRoleGrants(s.q, row.id)),
      previousSecretValidUntil: inGracePeriod(row.previous_valid_until, now) ? row.previous_valid_until : null,
    };
  });
}

export function keyPermissions(ctx: LocalContext, ref: string) {
  return checking(ctx, async (s) => {
    const row = await targetKey(s, ref, 'key.permissions');
    return { accessKeyId: row.id, permissions: permissionSources(await keysTable.keyRoleGrants(s.q, row.id)) };
  });
}

/** Shared shape of the simple modifications: resolve, check, change, record, return the new view. */
function modifyKey(
  ctx: LocalContext,
  ref: string,
  operation: 'key.extend' | 'key.activate' | 'key.deactivate',
  change: (s: WriteScope, row: keysTable.KeyRow, at: string) => Promise<Record<string, unknown> | null>,
  more: Omit<Request, 'operation' | 'key'> = {},
): Promise<KeyView> {
  return writing(ctx, async (s) => {
    const before = await targetKey(s, ref, operation, more);
    const at = s.now().toISOString();
    const details = await change(s, before, at);
    if (details !== null)
      await recordChange(s, {
        action: operation,
        target: before.id,
        details: { name: before.name, ...details },
        key: before,
      });
    return view(s, await reload(s, before.id));
  });
}

export function extendKey(ctx: LocalContext, ref: string, expiry: ExpiryChoice): Promise<KeyView> {
  const expiresAt = resolveExpiry(expiry, ctx.now())?.toISOString() ?? null;
  return modifyKey(
    ctx,
    ref,
    'key.extend',
    async (s, row, at) => {
      await keysTable.updateExpiry(s.q, row.id, expiresAt, at, s.actor.label);
      return { from: row.expires_at, to: expiresAt };
    },
    { neverExpires: expiresAt === null },
  );
}

export function setKeyStatus(ctx: LocalContext, ref: string, status: 'active' | 'inactive'): Promise<KeyView> {
  const byAdmin = ctx.actor.admin;
  return modifyKey(ctx, ref, status === 'active' ? 'key.activate' : 'key.deactivate', async (s, row, at) => {
    // Already so: nothing to do, unless an administrator now takes over a deactivation, so that
    // only an administrator can undo it.
    const takeOver = status === 'inactive' && byAdmin && row.deactivated_by_admin === 0;
    if (row.status === status && !takeOver) return null;
    await keysTable.updateStatus(s.q, row.id, status, byAdmin, at, s.actor.label);
    return { from: row.status, to: status };
  });
}

/** The names for which `apply` changed something. */
async function applied(
  rows: Array<{ id: number; name: string }>,
  apply: (id: number) => Promise<boolean>,
): Promise<string[]> {
  const names: string[] = [];
  for (const row of rows) if (await apply(row.id)) names.push(row.name);
  return names;
}

export function assignKey(ctx: LocalContext, ref: string, changes: AssignChanges): Promise<KeyView> {
  const total =
    changes.addGroups.length + changes.addRoles.length + changes.removeGroups.length + changes.removeRoles.length;
  if (total === 0)
    throw new UsageError('nothing to assign', { hint: 'pass --group, --role, --remove-group or --remove-role' });
  return writing(ctx, async (s) => {
    authorize(s, { operation: 'key.assign' });
    const addGroups = await groupIds(s, changes.addGroups);
    const addRoles = await roleIds(s, changes.addRoles);
    const removeGroups = await groupIds(s, changes.removeGroups);
    const removeRoles = await roleIds(s, changes.removeRoles);
    const before = await targetKey(s, ref, 'key.assign', {
      grants: { roles: addRoles.map((r) => r.name), groups: addGroups.map((g) => g.name) },
    });
    const id = before.id;
    const done = {
      addedGroups: await applied(addGroups, (group) => keysTable.addKeyGroup(s.q, id, group)),
      addedRoles: await applied(addRoles, (role) => keysTable.addKeyRole(s.q, id, role)),
      removedGroups: await applied(removeGroups, (group) => keysTable.removeKeyGroup(s.q, id, group)),
      removedRoles: await applied(removeRoles, (role) => keysTable.removeKeyRole(s.q, id, role)),
    };
    if (Object.values(done).some((list) => list.length > 0)) {
      await keysTable.touchKey(s.q, id, s.now().toISOString(), s.actor.label);
      await recordChange(s, { action: 'key.assign', target: id, details: { name: before.name, ...done }, key: before });
    }
    return view(s, await reload(s, id));
  });
}

export function rotateKey(ctx: LocalContext, ref: string, graceMs: number): Promise<IssuedKey> {
  // The front ends parse --grace, but the service is the API: a negative grace would rotate at
  // once, NaN would throw a RangeError mid-transaction, and a huge one would keep the old secret
  // alive far past the 30 days the CLI allows.
  if (!Number.isInteger(graceMs) || graceMs < 0 || graceMs > MAX_GRACE_MS) {
    throw new UsageError('the grace period must be a whole number of milliseconds from 0 to 30 days', {
      hint: 'e.g. --grace 12h',
      code: 'invalid_grace',
    });
  }
  return writing(ctx, async (s) => {
    const before = await targetKey(s, ref, 'key.rotate');
    const now = s.now();
    const fresh = mintSecret(s.keys, s.tenant.id, before.id);
    const graceUntil =
      graceEnd(now, graceMs, before.expires_at ? new Date(before.expires_at) : null)?.toISOString() ?? null;
    await keysTable.replaceSecret(s.q, before.id, fresh, graceUntil, now.toISOString(), s.actor.label);
    await recordChange(s, {
      action: 'key.rotate',
      target: before.id,
      details: { name: before.name, previousSecretValidUntil: graceUntil },
      key: before,
    });
    return {
      ...(await view(s, await reload(s, before.id))),
      secretKey: fresh.secretKey,
      keyString: keyStringFor(s.tenant.id, before.id, fresh.secretKey),
      previousSecretValidUntil: graceUntil,
    };
  });
}

export async function copyKey(ctx: LocalContext, ref: string) {
  const row = await checking(ctx, (s) => targetKey(s, ref, 'key.copy'));
  const keys = await ctx.loadKeys();
  // Opening proves the sealed secret is intact and bound to this key before we hand it out.
  openSecret(keys, row.tenant_id, row.id, row.secret_sealed);
  return {
    accessKeyId: row.id,
    tenantId: row.tenant_id,
    keyString: keyStringFor(row.tenant_id, row.id, sealedForDisplay(row.secret_sealed)),
  };
}

export function deleteKey(ctx: LocalContext, ref: string): Promise<KeyView> {
  return writing(ctx, async (s) => {
    const before = await targetKey(s, ref, 'key.delete');
    const gone = await view(s, before);
    await keysTable.deleteKey(s.q, before.id);
    await recordChange(s, {
      action: 'key.delete',
      target: before.id,
      details: { name: before.name, owner: before.owner_email },
      key: before,
    });
    return gone;
  });
}
