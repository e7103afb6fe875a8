/**
 * Where the local service asks the authorization rule (core/authorization.ts): the facts about
 * the actor and its targets come from the store here, the decision from there. A refusal is
 * thrown as AccessDenied; LocalService records it in the audit trail once the refused
 * transaction has rolled back.
 */
import {
  decide,
  keyInReach,
  type ActorFacts,
  type KeyFacts,
  type Operation,
  type Request,
  type UserFacts,
} from '../../core/authorization.js';
import { statusAt } from '../../core/brownout.js';
import { DeniedError } from '../../core/errors.js';
import { BUILTIN_GROUP, effectivePermissions } from '../../core/permissions.js';
import { keyRoleGrants } from '../../store/keyAssignments.js';
import { getKey, type KeyRow, type ListedKeyRow } from '../../store/keys.js';
import { isGroupMember, type UserRow } from '../../store/people.js';
import type { Actor } from './actor.js';
import { recordChange } from './changes.js';
import { writing, type LocalContext, type Scope } from './context.js';

export class AccessDenied extends DeniedError {
  constructor(
    message: string,
    options: ConstructorParameters<typeof DeniedError>[1],
    readonly operation: Operation,
    /** what the audit record names: a key id, an email, a group or role name; never a secret */
    readonly target: string | null,
  ) {
    super(message, options);
  }
}

/**
 * Several keys refused at once (a bulk command): the first refusal speaks for all of them, and
 * each leaves its own audit record.
 */
export class AccessDeniedMany extends AccessDenied {
  constructor(
    readonly denials: AccessDenied[],
    total: number,
  ) {
    const first = denials[0]!;
    super(
      `${first.message} (${denials.length} of ${total} keys refused; nothing was changed)`,
      { code: first.code, hint: first.hint },
      first.operation,
      first.target,
    );
  }
}

function actorFacts(actor: Actor): ActorFacts {
  return {
    permissions: actor.permissions,
    userId: actor.userId,
    roles: actor.grants.map((g) => g.role),
    groups: actor.groups,
  };
}

/** Deactivated by an administrator, and still inactive now (a brownout that has ended no longer counts). */
function byAdminNow(row: KeyRow | ListedKeyRow, now: Date): boolean {
  return row.deactivated_by_admin === 1 && statusAt(row.status, row.inactive_until, now) === 'inactive';
}

export async function keyFacts(s: Scope, row: KeyRow): Promise<KeyFacts> {
  return {
    id: row.id,
    ownerId: row.owner_id,
    permissions: effectivePermissions(await keyRoleGrants(s.q, row.id)),
    deactivatedByAdmin: byAdminNow(row, s.now()),
    canary: row.canary === 1,
  };
}

/** A listed row carries its permissions when the listing asked for them (withPermissions). */
export function listedKeyFacts(row: ListedKeyRow, now: Date): KeyFacts {
  return {
    id: row.id,
    ownerId: row.owner_id,
    permissions: JSON.parse(row.permissions ?? '[]') as string[],
    deactivatedByAdmin: byAdminNow(row, now),
    canary: row.canary === 1,
  };
}

export async function userFacts(s: Scope, row: UserRow): Promise<UserFacts> {
  return { email: row.email, administrator: await isGroupMember(s.q, s.tenant.id, BUILTIN_GROUP, row.id) };
}

/**
 * The keys a change to a group or role reaches. Administrators may change any, so their
 * changes skip the lookups. Canary keys are left out: to anyone else they do not exist, so
 * they must not turn an allowed change into a refusal (which would name them), and a canary
 * never authenticates, so the powers the change gives or takes from it grant nothing.
 */
export async function reachedKeys(s: Scope, ids: () => Promise<string[]>): Promise<KeyFacts[]> {
  if (s.actor.admin) return [];
  const facts: KeyFacts[] = [];
  for (const id of await ids()) {
    const row = await getKey(s.q, s.tenant.id, id);
    if (row && row.canary !== 1) facts.push(await keyFacts(s, row));
  }
  return facts;
}

/** Throws AccessDenied unless the rule allows the request. */
export function authorize(ctx: LocalContext, request: Request, target: string | null = null): void {
  const decision = decide(actorFacts(ctx.actor), request);
  if (!decision.allowed)
    throw new AccessDenied(decision.message, { code: decision.code, hint: decision.hint }, request.operation, target);
}

/** Keys the actor may act on at all: what it lists and finds by name. */
export function inReach(ctx: LocalContext, key: KeyFacts): boolean {
  return keyInReach(actorFacts(ctx.actor), key).allowed;
}

/** One audit record per refusal, in a transaction of its own: the refused one has rolled back. */
export function recordDenial(ctx: LocalContext, denial: AccessDenied): Promise<void> {
  const each = denial instanceof AccessDeniedMany ? denial.denials : [denial];
  return writing(ctx, async (s) => {
    for (const d of each)
      await recordChange(s, {
        action: 'access.denied',
        target: d.target,
        details: { operation: d.operation, code: d.code },
      });
  });
}
