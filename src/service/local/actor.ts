/**
 * Who is acting. Locally, whoever can open the store acts as the operator named at init.
 * Through the server, the key that signed the request acts, with its effective permissions.
 */
import { DeniedError } from '../../core/errors.js';
import { allows, effectivePermissions, type RoleGrant } from '../../core/permissions.js';
import { keyGroupNames, keyRoleGrants, type KeyRow } from '../../store/keys.js';
import { findUser } from '../../store/people.js';
import type { TenantRow } from '../../store/tenants.js';
import type { Queryable } from '../../store/types.js';

export interface Actor {
  /** what the audit trail and bookkeeping record: an email, or "key:AKM…" for a tenant-level key */
  label: string;
  userId: number | null;
  keyId: string | null;
  admin: boolean;
  permissions: string[];
  grants: RoleGrant[];
  /** the groups assigned to the acting key */
  groups: string[];
}

export async function operatorActor(q: Queryable, tenant: TenantRow): Promise<Actor> {
  const user = await findUser(q, tenant.id, tenant.operator);
  return {
    label: tenant.operator,
    userId: user?.id ?? null,
    keyId: null,
    admin: true,
    permissions: ['*'],
    grants: [],
    groups: [],
  };
}

export async function keyActor(q: Queryable, key: KeyRow): Promise<Actor> {
  const grants = await keyRoleGrants(q, key.id);
  const permissions = effectivePermissions(grants);
  return {
    label: key.owner_email ?? `key:${key.id}`,
    userId: key.owner_id,
    keyId: key.id,
    admin: allows(permissions, '*'),
    permissions,
    grants,
    groups: await keyGroupNames(q, key.id),
  };
}

export function requirePermission(actor: Actor, permission: string): void {
  if (!allows(actor.permissions, permission)) {
    throw new DeniedError(`permission denied: ${permission} is required`, {
      hint: 'ask a tenant administrator to assign a role that grants it',
      code: 'permission_denied',
    });
  }
}

/** A non-admin acting with their own user-level key may touch only keys they own. */
export function requireKeyScope(actor: Actor, key: Pick<KeyRow, 'owner_id' | 'id'>): void {
  if (actor.admin || actor.userId === null) return;
  if (key.owner_id !== actor.userId) {
    throw new DeniedError(`permission denied: ${key.id} is not your key`, { code: 'permission_denied' });
  }
}

/** Nobody but an admin grants what they do not hold themselves. */
export function requireGrantable(actor: Actor, roles: string[], groups: string[]): void {
  if (actor.admin) return;
  const heldRoles = new Set(actor.grants.map((g) => g.role.toLowerCase()));
  const heldGroups = new Set(actor.groups.map((g) => g.toLowerCase()));
  for (const role of roles) {
    if (!heldRoles.has(role.toLowerCase()))
      throw new DeniedError(`permission denied: you cannot grant the role ${role}, which you do not have`, {
        code: 'escalation_denied',
      });
  }
  for (const group of groups) {
    if (!heldGroups.has(group.toLowerCase()))
      throw new DeniedError(`permission denied: you cannot grant the group ${group}, which you are not in`, {
        code: 'escalation_denied',
      });
  }
}
