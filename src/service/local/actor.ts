/**
 * Who is acting. Locally, whoever can open the store acts as the operator named at init.
 * Through the server, the key that signed the request acts, with its effective permissions.
 * What an actor may do is decided in one place: authorize.ts, by the rule in core/authorization.ts.
 */
import { isAdministrator } from '../../core/authorization.js';
import { effectivePermissions, type RoleGrant } from '../../core/permissions.js';
import { keyGroupNames, keyRoleGrants } from '../../store/keyAssignments.js';
import type { KeyRow } from '../../store/keys.js';
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
    admin: isAdministrator(permissions),
    permissions,
    grants,
    groups: await keyGroupNames(q, key.id),
  };
}
