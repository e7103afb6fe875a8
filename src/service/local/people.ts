/** Users, groups and roles on the local store. All changes need users:manage and are audited. */
import { ConflictError, DeniedError, UsageError } from '../../core/errors.js';
import { BUILTIN_GROUP, PERMISSIONS } from '../../core/permissions.js';
import * as validate from '../../core/validate.js';
import { countOwnedKeys } from '../../store/keys.js';
import * as people from '../../store/people.js';
import type { Group, Role, User } from '../types.js';
import { requireGrantable, requirePermission } from './actor.js';
import { recordChange } from './changes.js';
import { reading, writing, type LocalContext, type Scope, type WriteScope } from './context.js';
import { mustGroup, mustRole, mustUser } from './lookups.js';

function manage<T>(ctx: LocalContext, work: (s: WriteScope) => Promise<T>): Promise<T> {
  requirePermission(ctx.actor, PERMISSIONS.manageUsers);
  return writing(ctx, work);
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

// ---- users

export function addUser(ctx: LocalContext, emailText: string, nameText: string): Promise<User> {
  const email = validate.email(emailText);
  const name = validate.displayName(nameText);
  return manage(ctx, async (s) => {
    if (await people.findUser(s.q, s.tenant.id, email))
      throw new ConflictError(`user ${email} already exists`, { code: 'duplicate_user' });
    await people.insertUser(s.q, s.tenant.id, email, name, s.now().toISOString());
    await recordChange(s, { action: 'user.add', target: email, details: { name } });
    return userView(s, (await people.findUser(s.q, s.tenant.id, email))!);
  });
}

export async function listUsers(ctx: LocalContext): Promise<User[]> {
  requirePermission(ctx.actor, PERMISSIONS.read);
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
  return manage(ctx, async (s) => {
    const row = await mustUser(s, emailText);
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
    await people.deleteUser(s.q, row.id);
    await recordChange(s, { action: 'user.remove', target: row.email, details: { groups: before.groups } });
    return before;
  });
}

// ---- groups

export function createGroup(ctx: LocalContext, nameText: string): Promise<Group> {
  const name = validate.entityName(nameText, 'group name');
  return manage(ctx, async (s) => {
    if (await people.findGroup(s.q, s.tenant.id, name))
      throw new ConflictError(`group "${validate.printable(name)}" already exists`, { code: 'duplicate_group' });
    await people.insertGroup(s.q, s.tenant.id, name, false, s.now().toISOString());
    await recordChange(s, { action: 'group.create', target: name, details: {} });
    return groupView(s, await mustGroup(s, name));
  });
}

export async function listGroups(ctx: LocalContext): Promise<Group[]> {
  requirePermission(ctx.actor, PERMISSIONS.read);
  return reading(ctx, async (s) => {
    const groups: Group[] = [];
    for (const row of await people.listGroups(s.q, s.tenant.id)) groups.push(await groupView(s, row));
    return groups;
  });
}

export function deleteGroup(ctx: LocalContext, name: string): Promise<Group> {
  return manage(ctx, async (s) => {
    const row = await mustGroup(s, name);
    if (row.builtin) throw new ConflictError(`"${row.name}" is built in and cannot be deleted`, { code: 'builtin' });
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

/** Only an administrator changes who is an administrator. */
function guardAdministrators(s: Scope, group: people.NamedRow): void {
  if (group.name.toLowerCase() === BUILTIN_GROUP.toLowerCase() && !s.actor.admin) {
    throw new DeniedError(`permission denied: only administrators change the ${BUILTIN_GROUP} group`, {
      code: 'escalation_denied',
    });
  }
}

export function addGroupMember(ctx: LocalContext, groupName: string, email: string): Promise<Group> {
  return manage(ctx, async (s) => {
    const group = await mustGroup(s, groupName);
    const user = await mustUser(s, email);
    guardAdministrators(s, group);
    if (await people.addGroupMember(s.q, group.id, user.id))
      await recordChange(s, { action: 'group.add-member', target: group.name, details: { user: user.email } });
    return groupView(s, group);
  });
}

export function removeGroupMember(ctx: LocalContext, groupName: string, email: string): Promise<Group> {
  return manage(ctx, async (s) => {
    const group = await mustGroup(s, groupName);
    const user = await mustUser(s, email);
    guardAdministrators(s, group);
    if (
      group.builtin &&
      (await people.countGroupMembers(s.q, group.id)) === 1 &&
      (await people.isGroupMember(s.q, s.tenant.id, group.name, user.id))
    ) {
      throw new ConflictError(`${user.email} is the last member of ${group.name}`, {
        hint: 'add another administrator first',
        code: 'last_admin',
      });
    }
    if (await people.removeGroupMember(s.q, group.id, user.id))
      await recordChange(s, { action: 'group.remove-member', target: group.name, details: { user: user.email } });
    return groupView(s, group);
  });
}

export function addGroupRole(ctx: LocalContext, groupName: string, roleName: string): Promise<Group> {
  return manage(ctx, async (s) => {
    const group = await mustGroup(s, groupName);
    const role = await mustRole(s, roleName);
    guardAdministrators(s, group);
    requireGrantable(s.actor, [role.name], []);
    if (await people.addGroupRole(s.q, group.id, role.id))
      await recordChange(s, { action: 'group.add-role', target: group.name, details: { role: role.name } });
    return groupView(s, group);
  });
}

export function removeGroupRole(ctx: LocalContext, groupName: string, roleName: string): Promise<Group> {
  return manage(ctx, async (s) => {
    const group = await mustGroup(s, groupName);
    const role = await mustRole(s, roleName);
    guardAdministrators(s, group);
    if (await people.removeGroupRole(s.q, group.id, role.id))
      await recordChange(s, { action: 'group.remove-role', target: group.name, details: { role: role.name } });
    return groupView(s, group);
  });
}

// ---- roles

export function createRole(ctx: LocalContext, nameText: string, permissionTexts: string[]): Promise<Role> {
  const name = validate.entityName(nameText, 'role name');
  const permissions = [...new Set(permissionTexts.map((p) => validate.permission(p)))];
  if (permissions.length === 0)
    throw new UsageError('a role needs at least one --permission', {
      hint: 'e.g. akm roles create Deployer --permission deploy:run',
    });
  return manage(ctx, async (s) => {
    if (!s.actor.admin && permissions.includes('*'))
      throw new DeniedError('permission denied: only administrators create roles with "*"', {
        code: 'escalation_denied',
      });
    if (await people.findRole(s.q, s.tenant.id, name))
      throw new ConflictError(`role "${validate.printable(name)}" already exists`, { code: 'duplicate_role' });
    await people.insertRole(s.q, s.tenant.id, name, false, permissions, s.now().toISOString());
    await recordChange(s, { action: 'role.create', target: name, details: { permissions } });
    return roleView(s, await mustRole(s, name));
  });
}

export async function listRoles(ctx: LocalContext): Promise<Role[]> {
  requirePermission(ctx.actor, PERMISSIONS.read);
  return reading(ctx, async (s) => {
    const roles: Role[] = [];
    for (const row of await people.listRoles(s.q, s.tenant.id)) roles.push(await roleView(s, row));
    return roles;
  });
}

export function deleteRole(ctx: LocalContext, name: string): Promise<Role> {
  return manage(ctx, async (s) => {
    const row = await mustRole(s, name);
    if (row.builtin) throw new ConflictError(`"${row.name}" is built in and cannot be deleted`, { code: 'builtin' });
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
