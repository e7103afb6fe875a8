/** Key lifecycle on the local store: each operation reads, decides, writes and records in one transaction. */
import type { Operation, Request } from '../../core/authorization.js';
import { brownoutEnd, checkBrownoutMs, inBrownout, outlastedWarning, statusAt } from '../../core/brownout.js';
import { ConflictError, UsageError } from '../../core/errors.js';
import { resolveExpiry, type ExpiryChoice } from '../../core/expiry.js';
import { graceChoiceOf, graceEnd, previousAccepted, startGrace, type GraceChoice } from '../../core/grace.js';
import { effectivePermissions, permissionSources } from '../../core/permissions.js';
import { sealedForDisplay, openSecret } from '../../crypto/seal.js';
import * as keyAssignments from '../../store/keyAssignments.js';
import * as keysTable from '../../store/keys.js';
import { forgetOldSecrets, forgetRefusals } from '../../store/usage.js';
import * as validate from '../../core/validate.js';
import type { AssignChanges, IssuedKey, KeyDetails, KeyEdit, KeyView, StatusOptions, Warned } from '../types.js';
import { authorize, keyFacts } from './authorize.js';
import { recordChange } from './changes.js';
import { checking, writing, type CheckedScope, type LocalContext, type WriteScope } from './context.js';
import { keyStringFor, mintSecret } from './issue.js';
import { groupIds, reload, roleIds, view } from './keyRows.js';
import { graceOf, graceView } from './keyState.js';
import { usageDetails } from './usage.js';
import { mustKey } from './lookups.js';
import { judgeNewExpiry } from './policyCheck.js';

/**
 * The key an operation acts on, once the actor may: first the operation's permission (before
 * any lookup: no permission, nothing learnt), then the key, then the rule on this key.
 */
export async function targetKey(
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
    const grace = graceView(row, now);
    return {
      ...(await view(s, row)),
      permissions: effectivePermissions(await keyAssignments.keyRoleGrants(s.q, row.id)),
      previousSecretValidUntil: grace?.endsAt ?? null,
      ...(await usageDetails(s, row, grace)),
      grace,
    };
  });
}

export function keyPermissions(ctx: LocalContext, ref: string) {
  return checking(ctx, async (s) => {
    const row = await targetKey(s, ref, 'key.permissions');
    return { accessKeyId: row.id, permissions: permissionSources(await keyAssignments.keyRoleGrants(s.q, row.id)) };
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
    const details = await change(s, before, s.now().toISOString());
    if (details !== null) await recordKeyChange(s, operation, before, details);
    return view(s, await reload(s, before.id));
  });
}

/** The audit record (and bells) of a simple change to one key, as it was before. */
export function recordKeyChange(
  s: WriteScope,
  operation: Operation,
  before: keysTable.KeyRow,
  details: Record<string, unknown>,
): Promise<void> {
  return recordChange(s, {
    action: operation,
    target: before.id,
    details: { name: before.name, ...details },
    key: before,
  });
}

export async function extendKey(ctx: LocalContext, ref: string, expiry: ExpiryChoice): Promise<KeyView & Warned> {
  const expiresAt = resolveExpiry(expiry, ctx.now())?.toISOString() ?? null;
  let warnings: string[] = [];
  const key = await modifyKey(
    ctx,
    ref,
    'key.extend',
    async (s, row, at) => {
      // After the rule: a policy refusal is reported only to someone allowed to extend the key.
      warnings = await judgeNewExpiry(s, expiresAt);
      return applyExpiry(s, row, expiresAt, at);
    },
    { neverExpires: expiresAt === null },
  );
  return warnings.length > 0 ? { ...key, warnings } : key;
}

/** The change extend makes (one key, or each key of a bulk extend); returns the audit details. */
export async function applyExpiry(s: WriteScope, row: keysTable.KeyRow, expiresAt: string | null, at: string) {
  await keysTable.updateExpiry(s.q, row.id, expiresAt, at, s.actor.label);
  return { from: row.expires_at, to: expiresAt };
}

/**
 * Activate, deactivate until activated, or (`forMs`) brown out: inactive until a time, then
 * active again by itself.
 */
export async function setKeyStatus(
  ctx: LocalContext,
  ref: string,
  status: 'active' | 'inactive',
  options: StatusOptions = {},
): Promise<KeyView & Warned> {
  const forMs = checkStatusOptions(status, options);
  const warnings: string[] = [];
  const key = await modifyKey(ctx, ref, status === 'active' ? 'key.activate' : 'key.deactivate', (s, row, at) =>
    applyStatus(s, row, status, at, forMs, warnings),
  );
  return warnings.length > 0 ? { ...key, warnings } : key;
}

/** A brownout's length, checked: only deactivate takes one. */
export function checkStatusOptions(status: 'active' | 'inactive', options: StatusOptions): number | undefined {
  const forMs = options.forMs === undefined ? undefined : checkBrownoutMs(options.forMs);
  if (forMs !== undefined && status !== 'inactive')
    throw new UsageError('a brownout (--for) deactivates a key for a while; activate takes no time', {
      code: 'invalid_brownout',
    });
  return forMs;
}

/** A brownout of a key inactive until activated would end its deactivation by itself: refused. */
export function alreadyInactive(id: string): ConflictError {
  return new ConflictError(`${id} is already inactive until activated`, {
    hint: `activate it first, then: akm deactivate ${id} --for …`,
    code: 'already_inactive',
  });
}

/**
 * The change activate and deactivate make (one key, or each key of a bulk change); null when
 * there is nothing to do (nothing is recorded). Activating ends a brownout; deactivating for good
 * replaces one. A brownout only ever grows, and never turns a deactivation that lasts until
 * activated into one that ends by itself (that would be re-activating). A shorter one than is
 * running changes nothing, and says so in `warnings`.
 */
export async function applyStatus(
  s: WriteScope,
  row: keysTable.KeyRow,
  status: 'active' | 'inactive',
  at: string,
  forMs?: number,
  warnings: string[] = [],
) {
  const now = s.now();
  const was = statusAt(row.status, row.inactive_until, now);
  // An administrator's deactivation (a brownout too) stays theirs while it lasts: deactivating
  // it again, for good or for longer, must not hand it to someone who may then activate it.
  const byAdmin = s.actor.admin || (status === 'inactive' && was === 'inactive' && row.deactivated_by_admin === 1);
  const browned = inBrownout(row.status, row.inactive_until, now);
  let inactiveUntil: string | null = null;
  const takeOver = status === 'inactive' && byAdmin && row.deactivated_by_admin === 0;
  if (forMs !== undefined) {
    if (was === 'inactive' && !browned) throw alreadyInactive(row.id);
    const outlasted = browned ? outlastedWarning(row.id, row.inactive_until, now, forMs) : null;
    if (outlasted !== null) warnings.push(outlasted);
    if (outlasted !== null && !takeOver) return null;
    inactiveUntil = brownoutEnd(now, forMs, browned ? row.inactive_until : null);
    if (!browned) await forgetRefusals(s.q, row.id);
  } else {
    // Already so: nothing to do, unless an administrator now takes over a deactivation (so
    // that only an administrator can undo it), or a brownout becomes a deactivation for good.
    if (was === status && !takeOver && !(status === 'inactive' && browned)) return null;
  }
  await keysTable.updateStatus(s.q, row.id, { status, byAdmin, inactiveUntil }, at, s.actor.label);
  return { from: was, to: status, ...(inactiveUntil ? { inactiveUntil } : {}) };
}

/** A new name or description: names keep their uniqueness among the owner's keys. */
export function editKey(ctx: LocalContext, ref: string, edit: KeyEdit): Promise<KeyView> {
  const name = edit.name === undefined ? undefined : validate.entityName(edit.name, 'key name');
  const description = edit.description === undefined ? undefined : validate.description(edit.description);
  if (name === undefined && description === undefined)
    throw new UsageError('nothing to edit', { hint: 'pass --name or --description', code: 'missing_flag' });
  return writing(ctx, async (s) => {
    const before = await targetKey(s, ref, 'key.edit');
    const labels = { name: name ?? before.name, description: description ?? before.description };
    if (labels.name === before.name && labels.description === before.description) return view(s, before);
    const renamed = labels.name.toLowerCase() !== before.name.toLowerCase();
    const taken = () =>
      new ConflictError(`a key named "${validate.printable(labels.name)}" already exists for this owner`, {
        hint: 'choose another --name',
        code: 'duplicate_name',
      });
    if (
      renamed &&
      (await keysTable.nameTaken(
        s.q,
        s.tenant.id,
        { ownerId: before.owner_id, canary: before.canary === 1 },
        labels.name,
      ))
    )
      throw taken();
    try {
      await keysTable.updateLabels(s.q, before.id, labels, s.now().toISOString(), s.actor.label);
    } catch (error) {
      if (s.q.dialect.isUniqueViolation(error)) throw taken();
      throw error;
    }
    await recordChange(s, {
      action: 'key.edit',
      target: before.id,
      details: {
        name: before.name,
        from: { name: before.name, description: before.description },
        to: labels,
      },
      key: before,
    });
    return view(s, await reload(s, before.id));
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
      addedGroups: await applied(addGroups, (group) => keyAssignments.addKeyGroup(s.q, id, group)),
      addedRoles: await applied(addRoles, (role) => keyAssignments.addKeyRole(s.q, id, role)),
      removedGroups: await applied(removeGroups, (group) => keyAssignments.removeKeyGroup(s.q, id, group)),
      removedRoles: await applied(removeRoles, (role) => keyAssignments.removeKeyRole(s.q, id, role)),
    };
    if (Object.values(done).some((list) => list.length > 0)) {
      await keysTable.touchKey(s.q, id, s.now().toISOString(), s.actor.label);
      await recordChange(s, { action: 'key.assign', target: id, details: { name: before.name, ...done }, key: before });
    }
    return view(s, await reload(s, id));
  });
}

export function rotateKey(ctx: LocalContext, ref: string, grace: number | GraceChoice): Promise<IssuedKey> {
  // The front ends parse --grace, but the service is the API: it checks the bounds itself.
  const choice = graceChoiceOf(grace);
  return writing(ctx, async (s) => {
    const before = await targetKey(s, ref, 'key.rotate');
    const now = s.now();
    const fresh = mintSecret(s.keys, s.tenant.id, before.id);
    const state = startGrace(choice, now, before.expires_at ? new Date(before.expires_at) : null);
    await keysTable.replaceSecret(s.q, before.id, fresh, state, now.toISOString(), s.actor.label);
    await forgetOldSecrets(s.q, before.id, before.secret_generation + 1);
    const until = graceEnd(state);
    await recordChange(s, {
      action: 'key.rotate',
      target: before.id,
      details: { name: before.name, grace: choice.kind, previousSecretValidUntil: until },
      key: before,
    });
    const after = await reload(s, before.id);
    return {
      ...(await view(s, after)),
      secretKey: fresh.secretKey,
      keyString: keyStringFor(s.tenant.id, before.id, fresh.secretKey),
      previousSecretValidUntil: until,
      grace: graceView(after, now),
    };
  });
}

/** `rotate --finish`: the previous secret stops working now; audited as a grace that ended (`finish`). */
export function finishGrace(ctx: LocalContext, ref: string): Promise<KeyView> {
  return writing(ctx, async (s) => {
    const before = await targetKey(s, ref, 'key.finish-grace');
    const at = s.now().toISOString();
    if (!previousAccepted(graceOf(before), s.now()))
      throw new ConflictError(`${before.id} has no grace in progress: no old secret works`, {
        hint: `akm show ${before.id}`,
        code: 'no_grace',
      });
    await keysTable.endGrace(s.q, before.id, at, s.actor.label);
    await recordChange(s, {
      action: 'key.grace_ended',
      target: before.id,
      details: { name: before.name, reason: 'finish', endedAt: at },
      key: before,
    });
    return view(s, await reload(s, before.id));
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
    await applyDelete(s, before);
    return gone;
  });
}

/** Delete, one key or each key of a bulk delete: the key, and the record of it. */
export async function applyDelete(s: WriteScope, row: keysTable.KeyRow): Promise<void> {
  await keysTable.deleteKey(s.q, row.id);
  await recordChange(s, {
    action: 'key.delete',
    target: row.id,
    details: { name: row.name, owner: row.owner_email },
    key: row,
  });
}
