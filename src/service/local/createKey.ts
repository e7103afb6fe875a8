/**
 * Creating a key: everything that needs no store is decided, and the secret minted and sealed,
 * before the write lock is taken; the limit, the name and the grants are checked with the insert
 * under it.
 */
import { ConflictError, UsageError } from '../../core/errors.js';
import { generateAccessKeyId } from '../../core/credentials.js';
import { resolveExpiry } from '../../core/expiry.js';
import { canOwnAnother, MAX_KEYS_PER_USER } from '../../core/limits.js';
import * as validate from '../../core/validate.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import * as keyAssignments from '../../store/keyAssignments.js';
import * as keysTable from '../../store/keys.js';
import type { CreateKeyInput, IssuedKey } from '../types.js';
import { authorize } from './authorize.js';
import { recordChange } from './changes.js';
import { defaultOwner, writing, type LocalContext, type WriteScope } from './context.js';
import { keyStringFor, mintSecret, type FreshSecret } from './issue.js';
import { groupIds, reload, roleIds, view } from './keyRows.js';
import { mustUser } from './lookups.js';
import { judgeNewExpiry } from './policyCheck.js';

/** A key about to be created: everything decided and sealed before the write lock is taken. */
export interface PlannedKey {
  accessKeyId: string;
  name: string;
  description: string;
  type: CreateKeyInput['type'];
  ownerEmail: string | null;
  expiresAt: string | null;
  groups: string[];
  roles: string[];
  canary: boolean;
  fresh: FreshSecret;
}

/**
 * What can be refused without the store is refused without it; the crypto is done here too,
 * keeping the transaction short.
 */
export function planKey(ctx: LocalContext, keys: DerivedKeys, input: CreateKeyInput): PlannedKey {
  const name = validate.entityName(input.name, 'key name');
  const description = validate.description(input.description ?? '');
  if (input.type !== 'access' && input.type !== 'api')
    throw new UsageError(`unknown key type "${validate.printable(String(input.type))}"`, { hint: 'use access or api' });
  const canary = input.canary === true;
  // A canary is bait for a thief, not anybody's key: it counts against nobody's limit.
  if (canary && input.owner !== undefined && input.owner !== null)
    throw new UsageError('a canary key is tenant-level: it has no owner', { hint: 'leave out --owner' });
  const ownerEmail = input.owner === null || canary ? null : validate.email(input.owner ?? defaultOwner(ctx));
  authorize(ctx, { operation: 'key.create', ...(canary ? { owner: null, canary } : {}) });
  const expiresAt = resolveExpiry(input.expiry, ctx.now())?.toISOString() ?? null;
  const accessKeyId = generateAccessKeyId();
  return {
    accessKeyId,
    name,
    description,
    type: input.type,
    ownerEmail,
    expiresAt,
    groups: input.groups,
    roles: input.roles,
    canary,
    fresh: mintSecret(keys, ctx.tenant.id, accessKeyId),
  };
}

/** The checks that need the store, and the insert, in the caller's write transaction. */
export async function insertPlannedKey(s: WriteScope, plan: PlannedKey): Promise<IssuedKey> {
  const { accessKeyId, name, ownerEmail } = plan;
  const owner =
    ownerEmail === null ? null : await mustUser(s, ownerEmail, `add them first: akm users add ${ownerEmail}`);
  const ownerId = owner?.id ?? null;
  const groups = await groupIds(s, plan.groups);
  const roles = await roleIds(s, plan.roles);
  authorize(
    s,
    {
      operation: 'key.create',
      owner: ownerId,
      grants: { roles: roles.map((r) => r.name), groups: groups.map((g) => g.name) },
      neverExpires: plan.expiresAt === null,
      canary: plan.canary,
    },
    owner?.email ?? null,
  );
  // The rule first: a policy refusal is reported only to someone allowed to create the key.
  const warnings = await judgeNewExpiry(s, plan.expiresAt);
  // Checked and inserted under the same write lock: the limit holds under concurrency.
  if (ownerId !== null && !canOwnAnother(await keysTable.countOwnedKeys(s.q, ownerId))) {
    throw new ConflictError(`${ownerEmail} already owns ${MAX_KEYS_PER_USER} keys, the most a user may have`, {
      hint:
        `delete one first (akm list --owner ${ownerEmail}; akm delete <key>), ` + 'or rotate an existing key instead',
      code: 'key_limit',
    });
  }
  if (await keysTable.nameTaken(s.q, s.tenant.id, { ownerId, canary: plan.canary }, name)) {
    throw new ConflictError(
      `a key named "${validate.printable(name)}" already exists` +
        (ownerEmail ? ` for ${ownerEmail}` : plan.canary ? ' among the canary keys' : ' at tenant level'),
      { hint: 'choose another --name', code: 'duplicate_name' },
    );
  }
  const at = s.now().toISOString();
  try {
    await keysTable.insertKey(s.q, {
      id: accessKeyId,
      tenant_id: s.tenant.id,
      name,
      description: plan.description,
      type: plan.type,
      owner_id: ownerId,
      secret_sealed: plan.fresh.sealed,
      secret_digest: plan.fresh.digest,
      expires_at: plan.expiresAt,
      canary: plan.canary ? 1 : null,
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
  for (const g of groups) await keyAssignments.addKeyGroup(s.q, accessKeyId, g.id);
  for (const r of roles) await keyAssignments.addKeyRole(s.q, accessKeyId, r.id);
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
      ...(plan.canary ? { canary: true } : {}),
    },
    key: { ...created, modified_by: created.created_by },
  });
  const secretKey = plan.fresh.secretKey;
  return {
    ...(await view(s, created)),
    secretKey,
    keyString: keyStringFor(s.tenant.id, accessKeyId, secretKey),
    ...(warnings.length > 0 ? { warnings } : {}),
  };
}

export async function createKey(ctx: LocalContext, input: CreateKeyInput): Promise<IssuedKey> {
  const plan = planKey(ctx, await ctx.loadKeys(), input);
  return writing(ctx, (s) => insertPlannedKey(s, plan));
}
