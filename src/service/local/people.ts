/**
 * Users, groups and roles on the local store. Every change needs users:manage, is judged by the
 * rule (administrators and their group are protected, a change that reaches keys is judged on
 * each key) and is audited.
 */
import type { Operation } from '../../core/authorization.js';
import { ConflictError, UsageError } from '../../core/errors.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import * as validate from '../../core/validate.js';
import { countOwnedKeys } from '../../store/keys.js';
import * as people from '../../store/people.js';
import type { Group, Role, User } from '../types.js';
import { authorize, reachedKeys, userFacts } from './authorize.js';
import { recordChange } from './changes.js';
import { reading, writing, type LocalContext, type Scope, type WriteScope } from './context.js';
import { mustGroup, mustRole, mustUser } from './lookups.js';

/** The operation's permission first (before any lookup), then the work under the write lock. */
function manage<T>(ctx: LocalContext, operation: Operation, work: (s: WriteScope) => Promise<T>): Promise<T> {
  authorize(ctx, { operation });
  return writing(ctx, work);
}

function isAdministrators(group: people.NamedRow): boolean {
  return group.builtin === 1 && group.name.toLowerCase() === BUILTIN_GROUP.toLowerCase();
}

/** The last member of Administrators stays, whoever asks and by whichever path. */
async function keepLastAdministrator(s: Scope, user: people.UserRow): Promise<void> {
  const group = await people.findGroup(s.q, s.tenant.id, BUILTIN_GROUP);
  if (!group || !(await people.isGroupMember(s.q, s.tenant.id, BUILTIN_GROUP, user.id))) return;
  if ((await people.countGroupMembers(s.q, group.id)) <= 1)
    throw new ConflictError(`${user.email} is the last member of ${BUILTIN_GROUP}`, {
      hint: 'add another administrator first',
      code: 'last_admin',
    });
}

async function userView(s: Scope, row: people.UserRow): Promise<User> {
  return {
    email: row.email,
    name: row.name,
    groups: await people.userGroups(s.q, row.id),
    keyCount: await countOwnedKeys(s.q, row.id),
    createdAt: row.created_at,
  };
}

async function groupView(s: Scope, row: people.NamedRow): Promise<Group> {
  return {
    name: row.name,
    builtin: row.builtin === 1,
    members: await people.groupMembers(s.q, row.id),
    roles: await people.groupRoles(s.q, row.id),
    createdAt: row.created_at,
  };
}

async function roleView(s: Scope, row: people.NamedRow): Promise<Role> {
  return {
    name: row.name,
    builtin: row.builtin === 1,
    permissions: await people.rolePermissions(s.q, row.id),
    createdAt: row.created_at,
  };
}

/** The facts about several users, for the rule. */
async function usersFacts(s: Scope, rows: people.UserRow[]) {
  const facts = [];
  for (const row of rows) facts.push(await userFacts(s, row));
  return facts;
}

// ---- users

export function addUser(ctx: LocalContext, emailText: string, nameText: string): Promise<User> {
  const email = validate.email(emailText);
  const name = validate.displayName(nameText);
  return manage(ctx, 'user.add', async (s) => {
    if (await people.findUser(s.q, s.tenant.id, email))
      throw new ConflictError(`user ${email} already exists`, { code: 'duplicate_user' });
    await people.insertUser(s.q, s.tenant.id, email, name, s.now().toISOString());
    await recordChange(s, { action: 'user.add', target: email, details: { name } });
    return userView(s, (await people.findUser(s.q, s.tenant.id, email))!);
  });
}

export async function listUsers(ctx: LocalContext): Promise<User[]> {
  authorize(ctx, { operation: 'user.list' });
  const rows = await reading(ctx, (s) => people.listUsers(s.q, s.tenant.id));
  return rows.map((u) => ({
    email: u.email,
    name: u.name,
    groups: JSON.parse(u.groups) as string[],
    keyCount: u.key_count,
    createdAt: u.created_at,
  }));
}

export function removeUser(ctx: LocalContext, emailText: string): Promise<User> {
  return manage(ctx, 'user.remove', async (s) => {
    const row = await mustUser(s, emailText);
    authorize(s, { operation: 'user.remove', users: [await userFacts(s, row)] }, row.email);
    const before = await userView(s, row);
    if (row.email.toLowerCase() === s.tenant.operator.toLowerCase()) {
      throw new ConflictError(`${row.email} is the store operator named at init and cannot be removed`, {
        code: 'operator_user',
      });
    }
    if (before.keyCount > 0) {
      throw new ConflictError(`${row.email} owns ${before.keyCount} key(s)`, {
        hint: `delete them first: akm list --owner ${row.email}`,
        code: 'user_has_keys',
      });
    }
    await keepLastAdministrator(s, row);
    await people.deleteUser(s.q, row.id);
    await recordChange(s, { action: 'user.remove', target: row.email, details: { groups: before.groups } });
    return before;
  });
}

// ---- groups

export function createGroup(ctx: LocalContext, nameText: string): Promise<Group> {
  const name = validate.entityName(nameText, 'group name');
  return manage(ctx, 'group.create', async (s) => {
    if (await people.findGroup(s.q, s.tenant.id, name))
      throw new ConflictError(`group "${validate.printable(name)}" already exists`, { code: 'duplicate_group' });
    await people.insertGroup(s.q, s.tenant.id, name, false, s.now().toISOString());
    await recordChange(s, { action: 'group.create', target: name, details: {} });
    return groupView(s, await mustGroup(s, name));
  });
}

export async function listGroups(ctx: LocalContext): Promise<Group[]> {
  authorize(ctx, { operation: 'group.list' });
  return reading(ctx, async (s) => {
    const groups: Group[] = [];
    for (const row of await people.listGroups(s.q, s.tenant.id)) groups.push(await groupView(s, row));
    return groups;
  });
}

export function deleteGroup(ctx: LocalContext, name: string): Promise<Group> {
  return manage(ctx, 'group.delete', async (s) => {
    const row = await mustGroup(s, name);
    authorize(
      s,
      {
        operation: 'group.delete',
        group: row.name,
        users: await usersFacts(s, await people.groupMemberRows(s.q, row.id)),
        reaches: await reachedKeys(s, () => people.keyIdsWithGroup(s.q, row.id)),
      },
      row.name,
    );
    if (row.builtin) throw new ConflictError(`"${row.name}" is built in and cannot be deleted`, { code: 'builtin' });
    if (!s.actor.admin) await people.detachFromCanaries(s.q, 'group', row.id);
    const inUse = await people.keysUsingGroup(s.q, row.id);
    if (inUse > 0)
      throw new ConflictError(`group "${validate.printable(row.name)}" is assigned to ${inUse} key(s)`, {
        hint: 'remove it from them first: akm assign <key> --remove-group',
        code: 'group_in_use',
      });
    const before = await groupView(s, row);
    await people.deleteGroup(s.q, row.id);
    await recordChange(s, {
      action: 'group.delete',
      target: row.name,
      details: { members: before.members, roles: before.roles },
    });
    return before;
  });
}

function changeMembers(ctx: LocalContext, groupName: string, email: string, adding: boolean): Promise<Group> {
  const operation = adding ? 'group.add-member' : 'group.remove-member';
  return manage(ctx, operation, async (s) => {
    const group = await mustGroup(s, groupName);
    const user = await mustUser(s, email);
    authorize(s, { operation, group: group.name, users: [await userFacts(s, user)] }, group.name);
    if (adding ? await people.addGroupMember(s.q, group.id, user.id) : await removeMember(s, group, user))
      await recordChange(s, { action: operation, target: group.name, details: { user: user.email } });
    return groupView(s, group);
  });
}

async function removeMember(s: Scope, group: people.NamedRow, user: people.UserRow): Promise<boolean> {
  if (isAdministrators(group)) await keepLastAdministrator(s, user);
  return people.removeGroupMember(s.q, group.id, user.id);
}

export function addGroupMember(ctx: LocalContext, groupName: string, email: string): Promise<Group> {
  return changeMembers(ctx, groupName, email, true);
}

export function removeGroupMember(ctx: LocalContext, groupName: string, email: string): Promise<Group> {
  return changeMembers(ctx, groupName, email, false);
}

/** A group's roles reach every key the group is assigned to: the rule judges the change on each. */
function changeRoles(ctx: LocalContext, groupName: string, roleName: string, adding: boolean): Promise<Group> {
  const operation = adding ? 'group.add-role' : 'group.remove-role';
  return manage(ctx, operation, async (s) => {
    const group = await mustGroup(s, groupName);
    const role = await mustRole(s, roleName);
    authorize(
      s,
      {
        operation,
        group: group.name,
        reaches: await reachedKeys(s, () => people.keyIdsWithGroup(s.q, group.id)),
        ...(adding ? { grants: { roles: [role.name], groups: [] } } : {}),
      },
      group.name,
    );
    if (!adding && isAdministrators(group) && role.builtin === 1 && role.name.toLowerCase() === 'administrator')
      throw new ConflictError(`${BUILTIN_GROUP} always carries the Administrator role`, { code: 'builtin' });
    const changed = adding
      ? await people.addGroupRole(s.q, group.id, role.id)
      : await people.removeGroupRole(s.q, group.id, role.id);
    if (changed) await recordChange(s, { action: operation, target: group.name, details: { role: role.name } });
    return groupView(s, group);
  });
}

export function addGroupRole(ctx: LocalContext, groupName: string, roleName: string): Promise<Group> {
  return changeRoles(ctx, groupName, roleName, true);
}

export function removeGroupRole(ctx: LocalContext, groupName: string, roleName: string): Promise<Group> {
  return changeRoles(ctx, groupName, roleName, false);
}

// ---- roles

export function createRole(ctx: LocalContext, nameText: string, permissionTexts: string[]): Promise<Role> {
  const name = validate.entityName(nameText, 'role name');
  const permissions = [...new Set(permissionTexts.map((p) => validate.permission(p)))];
  if (permissions.length === 0)
    throw new UsageError('a role needs at least one --permission', {
      hint: 'e.g. akm roles create Deployer --permission deploy:run',
    });
  return manage(ctx, 'role.create', async (s) => {
    authorize(s, { operation: 'role.create', rolePermissions: permissions }, name);
    if (await people.findRole(s.q, s.tenant.id, name))
      throw new ConflictError(`role "${validate.printable(name)}" already exists`, { code: 'duplicate_role' });
    await people.insertRole(s.q, s.tenant.id, name, false, permissions, s.now().toISOString());
    await recordChange(s, { action: 'role.create', target: name, details: { permissions } });
    return roleView(s, await mustRole(s, name));
  });
}

export async function listRoles(ctx: LocalContext): Promise<Role[]> {
  authorize(ctx, { operation: 'role.list' });
  return reading(ctx, async (s) => {
    const roles: Role[] = [];
    for (const row of await people.listRoles(s.q, s.tenant.id)) roles.push(await roleView(s, row));
    return roles;
  });
}

export function deleteRole(ctx: LocalContext, name: string): Promise<Role> {
  return manage(ctx, 'role.delete', async (s) => {
    const row = await mustRole(s, name);
    authorize(
      s,
      {
        operation: 'role.delete',
        role: row.name,
        reaches: await reachedKeys(s, () => people.keyIdsWithRole(s.q, row.id)),
      },
      row.name,
    );
    if (row.builtin) throw new ConflictError(`"${row.name}" is built in and cannot be deleted`, { code: 'builtin' });
    if (!s.actor.admin) await people.detachFromCanaries(s.q, 'role', row.id);
    const inUse = await people.roleUsage(s.q, row.id);
    if (inUse > 0)
      throw new ConflictError(`role "${validate.printable(row.name)}" is still assigned ${inUse} time(s)`, {
        hint: 'remove it from keys and groups first',
        code: 'role_in_use',
      });
    const before = await roleView(s, row);
    await people.deleteRole(s.q, row.id);
    await recordChange(s, { action: 'role.delete', target: row.name, details: { permissions: before.permissions } });
    return before;
  });
}
