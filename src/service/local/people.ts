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
import { inTransaction, type LocalContext } from './context.js';
import { mustGroup, mustRole, mustUser } from './lookups.js';

/** The operation's permission first (before any lookup), then the work under the write lock. */
function manage<T>(ctx: LocalContext, operation: Operation, work: () => T): T {
  authorize(ctx, { operation });
  return inTransaction(ctx, work);
}

function isAdministrators(group: people.NamedRow): boolean {
  return group.builtin === 1 && group.name.toLowerCase() === BUILTIN_GROUP.toLowerCase();
}

/** The last member of Administrators stays, whoever asks and by whichever path. */
function keepLastAdministrator(ctx: LocalContext, user: people.UserRow): void {
  const group = people.findGroup(ctx.db, ctx.tenant.id, BUILTIN_GROUP);
  if (!group || !people.isGroupMember(ctx.db, ctx.tenant.id, BUILTIN_GROUP, user.id)) return;
  if (people.countGroupMembers(ctx.db, group.id) <= 1)
    throw new ConflictError(`${user.email} is the last member of ${BUILTIN_GROUP}`, {
      hint: 'add another administrator first',
      code: 'last_admin',
    });
}

function userView(ctx: LocalContext, row: people.UserRow): User {
  return {
    email: row.email,
    name: row.name,
    groups: people.userGroups(ctx.db, row.id),
    keyCount: countOwnedKeys(ctx.db, row.id),
    createdAt: row.created_at,
  };
}

function groupView(ctx: LocalContext, row: people.NamedRow): Group {
  return {
    name: row.name,
    builtin: row.builtin === 1,
    members: people.groupMembers(ctx.db, row.id),
    roles: people.groupRoles(ctx.db, row.id),
    createdAt: row.created_at,
  };
}

function roleView(ctx: LocalContext, row: people.NamedRow): Role {
  return {
    name: row.name,
    builtin: row.builtin === 1,
    permissions: people.rolePermissions(ctx.db, row.id),
    createdAt: row.created_at,
  };
}

// ---- users

export function addUser(ctx: LocalContext, emailText: string, nameText: string): User {
  const email = validate.email(emailText);
  const name = validate.displayName(nameText);
  return manage(ctx, 'user.add', () => {
    if (people.findUser(ctx.db, ctx.tenant.id, email))
      throw new ConflictError(`user ${email} already exists`, { code: 'duplicate_user' });
    people.insertUser(ctx.db, ctx.tenant.id, email, name, ctx.now().toISOString());
    recordChange(ctx, { action: 'user.add', target: email, details: { name } });
    return userView(ctx, people.findUser(ctx.db, ctx.tenant.id, email)!);
  });
}

export function listUsers(ctx: LocalContext): User[] {
  authorize(ctx, { operation: 'user.list' });
  return people.listUsers(ctx.db, ctx.tenant.id).map((u) => ({
    email: u.email,
    name: u.name,
    groups: JSON.parse(u.groups) as string[],
    keyCount: u.key_count,
    createdAt: u.created_at,
  }));
}

export function removeUser(ctx: LocalContext, emailText: string): User {
  return manage(ctx, 'user.remove', () => {
    const row = mustUser(ctx, emailText);
    authorize(ctx, { operation: 'user.remove', users: [userFacts(ctx, row)] }, row.email);
    const before = userView(ctx, row);
    if (row.email.toLowerCase() === ctx.tenant.operator.toLowerCase()) {
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
    keepLastAdministrator(ctx, row);
    people.deleteUser(ctx.db, row.id);
    recordChange(ctx, { action: 'user.remove', target: row.email, details: { groups: before.groups } });
    return before;
  });
}

// ---- groups

export function createGroup(ctx: LocalContext, nameText: string): Group {
  const name = validate.entityName(nameText, 'group name');
  return manage(ctx, 'group.create', () => {
    if (people.findGroup(ctx.db, ctx.tenant.id, name))
      throw new ConflictError(`group "${validate.printable(name)}" already exists`, { code: 'duplicate_group' });
    people.insertGroup(ctx.db, ctx.tenant.id, name, false, ctx.now().toISOString());
    recordChange(ctx, { action: 'group.create', target: name, details: {} });
    return groupView(ctx, mustGroup(ctx, name));
  });
}

export function listGroups(ctx: LocalContext): Group[] {
  authorize(ctx, { operation: 'group.list' });
  return people.listGroups(ctx.db, ctx.tenant.id).map((g) => groupView(ctx, g));
}

export function deleteGroup(ctx: LocalContext, name: string): Group {
  return manage(ctx, 'group.delete', () => {
    const row = mustGroup(ctx, name);
    authorize(
      ctx,
      {
        operation: 'group.delete',
        group: row.name,
        users: people.groupMemberRows(ctx.db, row.id).map((u) => userFacts(ctx, u)),
        reaches: reachedKeys(ctx, people.keyIdsWithGroup(ctx.db, row.id)),
      },
      row.name,
    );
    if (row.builtin) throw new ConflictError(`"${row.name}" is built in and cannot be deleted`, { code: 'builtin' });
    const inUse = people.keysUsingGroup(ctx.db, row.id);
    if (inUse > 0)
      throw new ConflictError(`group "${validate.printable(row.name)}" is assigned to ${inUse} key(s)`, {
        hint: 'remove it from them first: akm assign <key> --remove-group',
        code: 'group_in_use',
      });
    const before = groupView(ctx, row);
    people.deleteGroup(ctx.db, row.id);
    recordChange(ctx, {
      action: 'group.delete',
      target: row.name,
      details: { members: before.members, roles: before.roles },
    });
    return before;
  });
}

function changeMembers(ctx: LocalContext, groupName: string, email: string, adding: boolean): Group {
  const operation = adding ? 'group.add-member' : 'group.remove-member';
  return manage(ctx, operation, () => {
    const group = mustGroup(ctx, groupName);
    const user = mustUser(ctx, email);
    authorize(ctx, { operation, group: group.name, users: [userFacts(ctx, user)] }, group.name);
    if (adding ? people.addGroupMember(ctx.db, group.id, user.id) : removeMember(ctx, group, user))
      recordChange(ctx, { action: operation, target: group.name, details: { user: user.email } });
    return groupView(ctx, group);
  });
}

function removeMember(ctx: LocalContext, group: people.NamedRow, user: people.UserRow): boolean {
  if (isAdministrators(group)) keepLastAdministrator(ctx, user);
  return people.removeGroupMember(ctx.db, group.id, user.id);
}

export function addGroupMember(ctx: LocalContext, groupName: string, email: string): Group {
  return changeMembers(ctx, groupName, email, true);
}

export function removeGroupMember(ctx: LocalContext, groupName: string, email: string): Group {
  return changeMembers(ctx, groupName, email, false);
}

/** A group's roles reach every key the group is assigned to: the rule judges the change on each. */
function changeRoles(ctx: LocalContext, groupName: string, roleName: string, adding: boolean): Group {
  const operation = adding ? 'group.add-role' : 'group.remove-role';
  return manage(ctx, operation, () => {
    const group = mustGroup(ctx, groupName);
    const role = mustRole(ctx, roleName);
    authorize(
      ctx,
      {
        operation,
        group: group.name,
        reaches: reachedKeys(ctx, people.keyIdsWithGroup(ctx.db, group.id)),
        ...(adding ? { grants: { roles: [role.name], groups: [] } } : {}),
      },
      group.name,
    );
    if (!adding && isAdministrators(group) && role.builtin === 1 && role.name.toLowerCase() === 'administrator')
      throw new ConflictError(`${BUILTIN_GROUP} always carries the Administrator role`, { code: 'builtin' });
    const changed = adding
      ? people.addGroupRole(ctx.db, group.id, role.id)
      : people.removeGroupRole(ctx.db, group.id, role.id);
    if (changed) recordChange(ctx, { action: operation, target: group.name, details: { role: role.name } });
    return groupView(ctx, group);
  });
}

export function addGroupRole(ctx: LocalContext, groupName: string, roleName: string): Group {
  return changeRoles(ctx, groupName, roleName, true);
}

export function removeGroupRole(ctx: LocalContext, groupName: string, roleName: string): Group {
  return changeRoles(ctx, groupName, roleName, false);
}

// ---- roles

export function createRole(ctx: LocalContext, nameText: string, permissionTexts: string[]): Role {
  const name = validate.entityName(nameText, 'role name');
  const permissions = [...new Set(permissionTexts.map((p) => validate.permission(p)))];
  if (permissions.length === 0)
    throw new UsageError('a role needs at least one --permission', {
      hint: 'e.g. akm roles create Deployer --permission deploy:run',
    });
  return manage(ctx, 'role.create', () => {
    authorize(ctx, { operation: 'role.create', rolePermissions: permissions }, name);
    if (people.findRole(ctx.db, ctx.tenant.id, name))
      throw new ConflictError(`role "${validate.printable(name)}" already exists`, { code: 'duplicate_role' });
    people.insertRole(ctx.db, ctx.tenant.id, name, false, permissions, ctx.now().toISOString());
    recordChange(ctx, { action: 'role.create', target: name, details: { permissions } });
    return roleView(ctx, mustRole(ctx, name));
  });
}

export function listRoles(ctx: LocalContext): Role[] {
  authorize(ctx, { operation: 'role.list' });
  return people.listRoles(ctx.db, ctx.tenant.id).map((r) => roleView(ctx, r));
}

export function deleteRole(ctx: LocalContext, name: string): Role {
  return manage(ctx, 'role.delete', () => {
    const row = mustRole(ctx, name);
    authorize(
      ctx,
      { operation: 'role.delete', role: row.name, reaches: reachedKeys(ctx, people.keyIdsWithRole(ctx.db, row.id)) },
      row.name,
    );
    if (row.builtin) throw new ConflictError(`"${row.name}" is built in and cannot be deleted`, { code: 'builtin' });
    const inUse = people.roleUsage(ctx.db, row.id);
    if (inUse > 0)
      throw new ConflictError(`role "${validate.printable(row.name)}" is still assigned ${inUse} time(s)`, {
        hint: 'remove it from keys and groups first',
        code: 'role_in_use',
      });
    const before = roleView(ctx, row);
    people.deleteRole(ctx.db, row.id);
    recordChange(ctx, { action: 'role.delete', target: row.name, details: { permissions: before.permissions } });
    return before;
  });
}
