/** Users, groups and roles by name, or a NotFoundError (exit 3) that says where to look. */
import { NotFoundError } from '../../core/errors.js';
import * as validate from '../../core/validate.js';
import * as people from '../../store/people.js';
import type { Scope } from './context.js';

export async function mustUser(
  s: Scope,
  email: string,
  hint = 'list users with: akm users list',
): Promise<people.UserRow> {
  const row = await people.findUser(s.q, s.tenant.id, validate.email(email));
  if (!row)
    throw new NotFoundError(`no user ${validate.printable(email)} in tenant ${s.tenant.id}`, {
      hint,
      code: 'user_not_found',
    });
  return row;
}

export async function mustGroup(s: Scope, name: string): Promise<people.NamedRow> {
  const row = await people.findGroup(s.q, s.tenant.id, name);
  if (!row)
    throw new NotFoundError(`no group "${validate.printable(name)}"`, {
      hint: 'list groups with: akm groups list',
      code: 'group_not_found',
    });
  return row;
}

export async function mustRole(s: Scope, name: string): Promise<people.NamedRow> {
  const row = await people.findRole(s.q, s.tenant.id, name);
  if (!row)
    throw new NotFoundError(`no role "${validate.printable(name)}"`, {
      hint: 'list roles with: akm roles list',
      code: 'role_not_found',
    });
  return row;
}
