/**
 * Keys, users, groups and roles by id or name, or a NotFoundError (exit 3) that says where to
 * look. They run in a checked scope (the keys loaded first), so the row found is checked
 * against its integrity MAC.
 */
import { isAccessKeyId } from '../../core/credentials.js';
import { isAdministrator } from '../../core/authorization.js';
import { ConflictError, NotFoundError, UsageError } from '../../core/errors.js';
import * as validate from '../../core/validate.js';
import { findKeysByName, getKey, type KeyRow } from '../../store/keys.js';
import * as people from '../../store/people.js';
import { inReach, keyFacts } from './authorize.js';
import type { CheckedScope } from './context.js';

/**
 * `<key>` is an access key id, or a name unique among the keys the actor can act on: names are
 * unique per owner only, so Bob's "laptop" is his own even when Alice has one too. An id is
 * looked up as it is, and the operation then says whether the actor may touch that key.
 */
export async function mustKey(s: CheckedScope, ref: string): Promise<KeyRow> {
  const text = validate.keyReference(ref);
  if (isAccessKeyId(text)) {
    const row = await getKey(s.q, s.tenant.id, text);
    // To anyone but an administrator a canary does not exist: nobody learns which keys are bait.
    if (!row || (row.canary === 1 && !isAdministrator(s.actor.permissions)))
      throw new NotFoundError(`no key ${text} in tenant ${s.tenant.id}`, {
        hint: 'list keys with: akm list',
        code: 'key_not_found',
      });
    return row;
  }
  if (text.length === 0) throw new UsageError('a key id or name is required');
  const rows: KeyRow[] = [];
  for (const row of await findKeysByName(s.q, s.tenant.id, text))
    if (inReach(s, await keyFacts(s, row))) rows.push(row);
  if (rows.length === 0)
    throw new NotFoundError(`no key named "${validate.printable(text)}"`, {
      hint: 'list keys with: akm list',
      code: 'key_not_found',
    });
  if (rows.length > 1) {
    throw new ConflictError(`${rows.length} keys are named "${validate.printable(text)}"`, {
      hint: `use an access key id: ${rows.map((r) => r.id).join(', ')}`,
      code: 'ambiguous_key',
    });
  }
  return rows[0]!;
}

export async function mustUser(
  s: CheckedScope,
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

export async function mustGroup(s: CheckedScope, name: string): Promise<people.NamedRow> {
  const row = await people.findGroup(s.q, s.tenant.id, name);
  if (!row)
    throw new NotFoundError(`no group "${validate.printable(name)}"`, {
      hint: 'list groups with: akm groups list',
      code: 'group_not_found',
    });
  return row;
}

export async function mustRole(s: CheckedScope, name: string): Promise<people.NamedRow> {
  const row = await people.findRole(s.q, s.tenant.id, name);
  if (!row)
    throw new NotFoundError(`no role "${validate.printable(name)}"`, {
      hint: 'list roles with: akm roles list',
      code: 'role_not_found',
    });
  return row;
}
