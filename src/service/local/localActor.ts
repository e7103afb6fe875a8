/**
 * Who acts on a local store. Whoever can open the file is its operator and acts as the
 * administrator named at init; on a store several administrators share, `--as EMAIL` names the
 * one at the keyboard, so the audit trail and the bookkeeping say who did what. Only an
 * administrator of the tenant can be named: the name is not a way to gain or borrow rights.
 */
import { DeniedError } from '../../core/errors.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import * as validate from '../../core/validate.js';
import type { Db } from '../../store/open.js';
import { findUser, isGroupMember } from '../../store/people.js';
import type { TenantRow } from '../../store/tenants.js';
import { operatorActor, type Actor } from './actor.js';

export function localActor(db: Db, tenant: TenantRow, actAs: string | undefined): Actor {
  if (actAs === undefined) return operatorActor(db, tenant);
  const email = validate.email(actAs);
  const user = findUser(db, tenant.id, email);
  if (!user || !isGroupMember(db, tenant.id, BUILTIN_GROUP, user.id)) {
    throw new DeniedError(`--as ${email}: not an administrator of tenant ${tenant.id}`, {
      hint: `an administrator can make them one: akm groups add-member ${BUILTIN_GROUP} ${email}`,
      code: 'permission_denied',
    });
  }
  return { ...operatorActor(db, tenant), label: user.email, userId: user.id };
}
