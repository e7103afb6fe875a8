/**
 * Users, groups and roles by name, or a NotFoundError (exit 3) that says where to look. The keys
 * are loaded first, so the row found is checked against its integrity MAC.
 */
import { NotFoundError } from '../../core/errors.js';
import * as validate from '../../core/validate.js';
import * as people from '../../store/people.js';
import type { LocalContext } from './context.js';

export function mustUser(ctx: LocalContext, email: string, hint = 'list users with: akm users list'): people.UserRow {
  ctx.keys();
  const row = people.findUser(ctx.db, ctx.tenant.id, validate.email(email));
  if (!row)
    throw new NotFoundError(`no user ${validate.printable(email)} in tenant ${ctx.tenant.id}`, {
      hint,
      code: 'user_not_found',
    });
  return row;
}

export function mustGroup(ctx: LocalContext, name: string): people.NamedRow {
  ctx.keys();
  const row = people.findGroup(ctx.db, ctx.tenant.id, name);
  if (!row)
    throw new NotFoundError(`no group "${validate.printable(name)}"`, {
      hint: 'list groups with: akm groups list',
      code: 'group_not_found',
    });
  return row;
}

export function mustRole(ctx: LocalContext, name: string): people.NamedRow {
  ctx.keys();
  const row = people.findRole(ctx.db, ctx.tenant.id, name);
  if (!row)
    throw new NotFoundError(`no role "${validate.printable(name)}"`, {
      hint: 'list roles with: akm roles list',
      code: 'role_not_found',
    });
  return row;
}
