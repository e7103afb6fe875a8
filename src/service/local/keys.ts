/** Key lifecycle on the local store: each operation reads, decides, writes and records in one transaction. */
import { ConflictError, DeniedError, UsageError } from '../../core/errors.js';
import { generateAccessKeyId } from '../../core/credentials.js';
import { graceEnd, inGracePeriod, MAX_GRACE_MS, resolveExpiry, type ExpiryChoice } from '../../core/expiry.js';
import { canOwnAnother, MAX_KEYS_PER_USER } from '../../core/limits.js';
import { effectivePermissions, PERMISSIONS, permissionSources } from '../../core/permissions.js';
import * as validate from '../../core/validate.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import { sealedForDisplay, openSecret } from '../../crypto/seal.js';
import * as keysTable from '../../store/keys.js';
import type { AssignChanges, CreateKeyInput, IssuedKey, KeyDetails, KeyFilter, KeyView, Page } from '../types.js';
import { requireGrantable, requireKeyScope, requirePermission } from './actor.js';
import { recordChange } from './changes.js';
import { reading, resolveKey, toKeyView, writing, type LocalContext, type Scope, type WriteScope } from './context.js';
import { keyStringFor, mintSecret, type FreshSecret } from './issue.js';
import { mustGroup, mustRole, mustUser } from './lookups.js';

async function view(s: Scope, row: keysTable.KeyRow): Promise<KeyView> {
  const [groups, roles] = [await keysTable.keyGroupNames(s.q, row.id), await keysTable.keyRoleNames(s.q, row.id)];
  return toKeyView(row, groups, roles, s.now());
}

async function reload(s: Scope, id: string): Promise<keysTable.KeyRow> {
  return (await keysTable.getKey(s.q, s.tenant.id, id))!;
}

async function groupIds(s: Scope, names: string[]): Promise<Array<{ id: number; name: string }>> {
  const rows = [];
  for (const name of names) rows.push(await mustGroup(s, name));
  return rows;
}

async function roleIds(s: Scope, names: string[]): Promise<Array<{ id: number; name: string }>> {
  const rows = [];
  for (const name of names) rows.push(await mustRole(s, name));
  return rows;
}

/** A key about to be created: everything decided and sealed before the write lock is taken. */
export interface PlannedKey {
  accessKeyId: string;
  name: string;
  type: CreateKeyInput['type'];
  ownerEmail: string | null;
  expiresAt: string | null;
  groups: string[];
  roles: string[];
  fresh: FreshSecret;
}

/** What can be refused without the store is refused without it; the crypto is done here too, keeping the transaction short. */
export function planKey(ctx: LocalContext, keys: DerivedKeys, input: CreateKeyInput): PlannedKey {
  const name = validate.entityName(input.name, 'key name');
  if (input.type !== 'access' && input.type !== 'api')
    throw new UsageError(`unknown key type "${validate.printable(String(input.type))}"`, { hint: 'use access or api' });
  const ownerEmail = input.owner === null ? null : validate.email(input.owner);
  requirePermission(ctx.actor, PERMISSIONS.write);
  if (ownerEmail === null && !ctx.actor.admin) {
    throw new DeniedError('permission denied: only tenant administrators may create tenant-level keys', {
      hint: 'pass --owner with your own email',
      code: 'permission_denied',
    });
  }
  const expiresAt = resolveExpiry(input.expiry, ctx.now())?.toISOString() ?? null;
  const accessKeyId = generateAccessKeyId();
  return {
    accessKeyId,
    name,
    type: input.type,
    ownerEmail,
    expiresAt,
    groups: input.groups,
    roles: input.roles,
    fresh: mintSecret(keys, ctx.tenant.id, accessKeyId),
  };
}

/** The checks that need the store, and the insert, in the caller's write transaction. */
export async function insertPlannedKey(s: WriteScope, plan: PlannedKey): Promise<IssuedKey> {
  const { accessKeyId, name, ownerEmail } = plan;
  let ownerId: number | null = null;
  if (ownerEmail !== null) {
    ownerId = (await mustUser(s, ownerEmail, `add them first: akm users add ${ownerEmail}`)).id;
    if (!s.actor.admin && s.actor.userId !== ownerId) {
      throw new DeniedError('permission denied: you may create keys only for yourself', {
        code: 'permission_denied',
      });
    }
    // Checked and inserted under the same write lock: the limit holds under concurrency.
    if (!canOwnAnother(await keysTable.countOwnedKeys(s.q, ownerId))) {
      throw new ConflictError(`${ownerEmail} already owns ${MAX_KEYS_PER_USER} keys, the most a user may have`, {
        hint: `delete one first (akm list --owner ${ownerEmail}; akm delete <key>), or rotate an existing key instead`,
        code: 'key_limit',
      });
    }
  }
  if (await keysTable.nameTaken(s.q, s.tenant.id, ownerId, name)) {
    throw new ConflictError(
      `a key named "${validate.printable(name)}" already exists${ownerEmail ? ` for ${ownerEmail}` : ' at tenant level'}`,
      { hint: 'choose another --name', code: 'duplicate_name' },
    );
  }
  const groups = await groupIds(s, plan.groups);
  const roles = await roleIds(s, plan.roles);
  requireGrantable(
    s.actor,
    roles.map((r) => r.name),
    groups.map((g) => g.name),
  );
  const at = s.now().toISOString();
  try {
    await keysTable.insertKey(s.q, {
      id: accessKeyId,
      tenant_id: s.tenant.id,
      name,
      type: plan.type,
      owner_id: ownerId,
      secret_sealed: plan.fresh.sealed,
      secret_digest: plan.fresh.digest,
      expires_at: plan.expiresAt,
      at,
      by: s.actor.label,
    });
  } catch (error) {
    if (s.q.dialect.isUniqueViolation(error))
      throw new ConflictError(`a key named "${validate.printable(name)}" already exists`, {
        hint: 'choose another --name',
        code: 'duplicate_name',
      });
    throw error;
  }
  for (const g of groups) await keysTable.addKeyGroup(s.q, accessKeyId, g.id);
  for (const r of roles) await keysTable.addKeyRole(s.q, accessKeyId, r.id);
  const created = await reload(s, accessKeyId);
  await recordChange(s, {
    action: 'key.create',
    target: accessKeyId,
    details: {
      name,
      type: plan.type,
      owner: ownerEmail,
      expiresAt: created.expires_at,
      groups: groups.map((g) => g.name),
      roles: roles.map((r) => r.name),
    },
    key: { ...created, modified_by: created.created_by },
  });
  const secretKey = plan.fresh.secretKey;
  return { ...(await view(s, created)), secretKey, keyString: keyStringFor(s.tenant.id, accessKeyId, secretKey) };
}

export async function createKey(ctx: LocalContext, input: CreateKeyInput): Promise<IssuedKey> {
  const plan = planKey(ctx, await ctx.loadKeys(), input);
  return writing(ctx, (s) => insertPlannedKey(s, plan));
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

export async function listKeys(
  ctx: LocalContext,
  filter: KeyFilter,
  page: { after?: string; limit?: number } = {},
): Promise<Page<KeyView>> {
  requirePermission(ctx.actor, PERMISSIONS.read);
  const now = ctx.now();
  const limit = Math.min(Math.max(page.limit ?? PAGE_SIZE, 1), PAGE_SIZE);
  const after = page.after ? decodeCursor(page.after) : undefined;
  const rows = await reading(ctx, async (s) => {
    let ownerId: number | undefined;
    if (filter.owner !== undefined) ownerId = (await mustUser(s, filter.owner)).id;
    // A non-admin acting with their own key sees only their own keys.
    if (!s.actor.admin && s.actor.userId !== null) {
      if (ownerId !== undefined && ownerId !== s.actor.userId) return [];
      ownerId = s.actor.userId;
    }
    return keysTable.listKeys(s.q, {
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
      limit,
    });
  });
  const items = rows.map((row) =>
    toKeyView(row, JSON.parse(row.groups) as string[], JSON.parse(row.roles) as string[], now),
  );
  const last = rows[rows.length - 1];
  return rows.length === limit && last ? { items, next: encodeCursor(last) } : { items };
}

async function readableKey(s: Scope, ref: string, permission: string = PERMISSIONS.read): Promise<keysTable.KeyRow> {
  requirePermission(s.actor, permission);
  const row = await resolveKey(s, ref);
  requireKeyScope(s.actor, row);
  return row;
}

export function showKey(ctx: LocalContext, ref: string): Promise<KeyDetails> {
  return reading(ctx, async (s) => {
    const row = await readableKey(s, ref);
    const now = s.now();
    return {
      ...(await view(s, row)),
      permissions: effectivePermissions(await keysTable.keyRoleGrants(s.q, row.id)),
      previousSecretValidUntil: inGracePeriod(row.previous_valid_until, now) ? row.previous_valid_until : null,
    };
  });
}

export function keyPermissions(ctx: LocalContext, ref: string) {
  return reading(ctx, async (s) => {
    const row = await readableKey(s, ref);
    return { accessKeyId: row.id, permissions: permissionSources(await keysTable.keyRoleGrants(s.q, row.id)) };
  });
}

/** Shared shape of the simple modifications: resolve, check, change, record, return the new view. */
function modifyKey(
  ctx: LocalContext,
  ref: string,
  permission: string,
  action: string,
  change: (s: WriteScope, row: keysTable.KeyRow, at: string) => Promise<Record<string, unknown> | null>,
): Promise<KeyView> {
  return writing(ctx, async (s) => {
    const before = await readableKey(s, ref, permission);
    const at = s.now().toISOString();
    const details = await change(s, before, at);
    if (details !== null)
      await recordChange(s, { action, target: before.id, details: { name: before.name, ...details }, key: before });
    return view(s, await reload(s, before.id));
  });
}

export function extendKey(ctx: LocalContext, ref: string, expiry: ExpiryChoice): Promise<KeyView> {
  const expiresAt = resolveExpiry(expiry, ctx.now())?.toISOString() ?? null;
  return modifyKey(ctx, ref, PERMISSIONS.write, 'key.extend', async (s, row, at) => {
    await keysTable.updateExpiry(s.q, row.id, expiresAt, at, s.actor.label);
    return { from: row.expires_at, to: expiresAt };
  });
}

export function setKeyStatus(ctx: LocalContext, ref: string, status: 'active' | 'inactive'): Promise<KeyView> {
  const action = status === 'active' ? 'key.activate' : 'key.deactivate';
  return modifyKey(ctx, ref, PERMISSIONS.write, action, async (s, row, at) => {
    if (row.status === status) return null; // already so: nothing to record
    await keysTable.updateStatus(s.q, row.id, status, at, s.actor.label);
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
  return modifyKey(ctx, ref, PERMISSIONS.write, 'key.assign', async (s, row, at) => {
    const addGroups = await groupIds(s, changes.addGroups);
    const addRoles = await roleIds(s, changes.addRoles);
    const removeGroups = await groupIds(s, changes.removeGroups);
    const removeRoles = await roleIds(s, changes.removeRoles);
    requireGrantable(
      s.actor,
      addRoles.map((r) => r.name),
      addGroups.map((g) => g.name),
    );
    const done = {
      addedGroups: await applied(addGroups, (id) => keysTable.addKeyGroup(s.q, row.id, id)),
      addedRoles: await applied(addRoles, (id) => keysTable.addKeyRole(s.q, row.id, id)),
      removedGroups: await applied(removeGroups, (id) => keysTable.removeKeyGroup(s.q, row.id, id)),
      removedRoles: await applied(removeRoles, (id) => keysTable.removeKeyRole(s.q, row.id, id)),
    };
    if (Object.values(done).every((list) => list.length === 0)) return null;
    await keysTable.touchKey(s.q, row.id, at, s.actor.label);
    return done;
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
    const before = await readableKey(s, ref, PERMISSIONS.rotate);
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
  const row = await reading(ctx, (s) => readableKey(s, ref));
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
    const before = await readableKey(s, ref, PERMISSIONS.delete);
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
