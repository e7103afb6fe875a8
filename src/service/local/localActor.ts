/**
 * Who acts on a local store. Whoever can open the file is its operator and acts as the
 * administrator named at init; on a store several administrators share, `--as EMAIL` names the
 * one at the keyboard, so the audit trail and the bookkeeping say who did what. Only an
 * administrator of the tenant can be named: the name is not a way to gain or borrow rights.
 */
import { DeniedError } from '../../core/errors.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import * as validate from '../../core/validate.js';
import { findUser, isGroupMember } from '../../store/people.js';
import type { TenantRow } from '../../store/tenants.js';
import type { Queryable } from '../../store/types.js';
import { operatorActor, type Actor } from './actor.js';

export async function localActor(q: Queryable, tenant: TenantRow, actAs: string | undefined): Promise<Actor> {
  if (actAs === undefined) return operatorActor(q, tenant);
  const email = validate.email(actAs);
  const user = await findUser(q, tenant.id, email);
  if (!user || !(await isGroupMember(q, tenant.id, BUILTIN_GROUP, user.id))) {
    throw new DeniedError(`--as ${email}: not an administrator of tenant ${tenant.id}`, {
      hint: `an administrator can make them one: akm groups add-member ${BUILTIN_GROUP} ${email}`,
      code: 'permission_denied',
    });
  }
  return { ...(await operatorActor(q, tenant)), label: user.email, userId: user.id };
}
