/** Users, groups and roles on the local store. All changes need users:manage and are audited. */
import { ConflictError, DeniedError, UsageError } from '../../core/errors.js';
import { BUILTIN_GROUP, PERMISSIONS } from '../../core/permissions.js';
import * as validate from '../../core/validate.js';
import { countOwnedKeys } from '../../store/keys.js';
import * as people from '../../store/people.js';
import type { Group, Role, User } from '../types.js';
import { requireGrantable, requirePermission } from './actor.js';
import { recordChange } from './changes.js';
import { inTransaction, type LocalContext } from './context.js';
import { mustGroup, mustRole, mustUser } from './lookups.js';

function manage<T>(ctx: LocalContext, work: () => T): T {
  requirePermission(ctx.actor, PERMISSIONS.manageUsers);
  return inTransaction(ctx, work);
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
  return manage(ctx, () => {
    if (people.findUser(ctx.db, ctx.tenant.id, email))
      throw new ConflictError(`user ${email} already exists`, { code: 'duplicate_user' });
    people.insertUser(ctx.db, ctx.tenant.id, email, name, ctx.now().toISOString());
    recordChange(ctx, { action: 'user.add', target: email, details: { name } });
    return userView(ctx, people.findUser(ctx.db, ctx.tenant.id, email)!);
  });
}

export function listUsers(ctx: LocalContext): User[] {
  requirePermission(ctx.actor, PERMISSIONS.read);
  return people.listUsers(ctx.db, ctx.tenant.id).map((u) => ({
    email: u.email,
    name: u.name,
    groups: JSON.parse(u.groups) as string[],
    keyCount: u.key_count,
    createdAt: u.created_at,
  }));
}

export function removeUser(ctx: LocalContext, emailText: string): User {
  return manage(ctx, () => {
    const row = mustUser(ctx, emailText);
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
    people.deleteUser(ctx.db, row.id);
    recordChange(ctx, { action: 'user.remove', target: row.email, details: { groups: before.groups } });
    return before;
  });
}

// ---- groups

export function createGroup(ctx: LocalContext, nameText: string): Group {
  const name = validate.entityName(nameText, 'group name');
  return manage(ctx, () => {
    if (people.findGroup(ctx.db, ctx.tenant.id, name))
      throw new ConflictError(`group "${validate.printable(name)}" already exists`, { code: 'duplicate_group' });
    people.insertGroup(ctx.db, ctx.tenant.id, name, false, ctx.now().toISOString());
    recordChange(ctx, { action: 'group.create', target: name, details: {} });
    return groupView(ctx, mustGroup(ctx, name));
  });
}

export function listGroups(ctx: LocalContext): Group[] {
  requirePermission(ctx.actor, PERMISSIONS.read);
  return people.listGroups(ctx.db, ctx.tenant.id).map((g) => groupView(ctx, g));
}

export function deleteGroup(ctx: LocalContext, name: string): Group {
  return manage(ctx, () => {
    const row = mustGroup(ctx, name);
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

/** Only an administrator changes who is an administrator. */
function guardAdministrators(ctx: LocalContext, group: people.NamedRow): void {
  if (group.name.toLowerCase() === BUILTIN_GROUP.toLowerCase() && !ctx.actor.admin) {
    throw new DeniedError(`permission denied: only administrators change the ${BUILTIN_GROUP} group`, {
      code: 'escalation_denied',
    });
  }
}

export function addGroupMember(ctx: LocalContext, groupName: string, email: string): Group {
  return manage(ctx, () => {
    const group = mustGroup(ctx, groupName);
    const user = mustUser(ctx, email);
    guardAdministrators(ctx, group);
    if (people.addGroupMember(ctx.db, group.id, user.id))
      recordChange(ctx, { action: 'group.add-member', target: group.name, details: { user: user.email } });
    return groupView(ctx, group);
  });
}

export function removeGroupMember(ctx: LocalContext, groupName: string, email: string): Group {
  return manage(ctx, () => {
    const group = mustGroup(ctx, groupName);
    const user = mustUser(ctx, email);
    guardAdministrators(ctx, group);
    if (
      group.builtin &&
      people.countGroupMembers(ctx.db, group.id) === 1 &&
      people.isGroupMember(ctx.db, ctx.tenant.id, group.name, user.id)
    ) {
      throw new ConflictError(`${user.email} is the last member of ${group.name}`, {
        hint: 'add another administrator first',
        code: 'last_admin',
      });
    }
    if (people.removeGroupMember(ctx.db, group.id, user.id))
      recordChange(ctx, { action: 'group.remove-member', target: group.name, details: { user: user.email } });
    return groupView(ctx, group);
  });
}

export function addGroupRole(ctx: LocalContext, groupName: string, roleName: string): Group {
  return manage(ctx, () => {
    const group = mustGroup(ctx, groupName);
    const role = mustRole(ctx, roleName);
    guardAdministrators(ctx, group);
    requireGrantable(ctx.actor, [role.name], []);
    if (people.addGroupRole(ctx.db, group.id, role.id))
      recordChange(ctx, { action: 'group.add-role', target: group.name, details: { role: role.name } });
    return groupView(ctx, group);
  });
}

export function removeGroupRole(ctx: LocalContext, groupName: string, roleName: string): Group {
  return manage(ctx, () => {
    const group = mustGroup(ctx, groupName);
    const role = mustRole(ctx, roleName);
    guardAdministrators(ctx, group);
    if (people.removeGroupRole(ctx.db, group.id, role.id))
      recordChange(ctx, { action: 'group.remove-role', target: group.name, details: { role: role.name } });
    return groupView(ctx, group);
  });
}

// ---- roles

export function createRole(ctx: LocalContext, nameText: string, permissionTexts: string[]): Role {
  const name = validate.entityName(nameText, 'role name');
  const permissions = [...new Set(permissionTexts.map((p) => validate.permission(p)))];
  if (permissions.length === 0)
    throw new UsageError('a role needs at least one --permission', {
      hint: 'e.g. akm roles create Deployer --permission deploy:run',
    });
  return manage(ctx, () => {
    if (!ctx.actor.admin && permissions.includes('*'))
      throw new DeniedError('permission denied: only administrators create roles with "*"', {
        code: 'escalation_denied',
      });
    if (people.findRole(ctx.db, ctx.tenant.id, name))
      throw new ConflictError(`role "${validate.printable(name)}" already exists`, { code: 'duplicate_role' });
    people.insertRole(ctx.db, ctx.tenant.id, name, false, permissions, ctx.now().toISOString());
    recordChange(ctx, { action: 'role.create', target: name, details: { permissions } });
    return roleView(ctx, mustRole(ctx, name));
  });
}

export function listRoles(ctx: LocalContext): Role[] {
  requirePermission(ctx.actor, PERMISSIONS.read);
  return people.listRoles(ctx.db, ctx.tenant.id).map((r) => roleView(ctx, r));
}

export function deleteRole(ctx: LocalContext, name: string): Role {
  return manage(ctx, () => {
    const row = mustRole(ctx, name);
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
