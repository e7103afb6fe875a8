/**
 * Permission resolution, pure. A key's effective permissions are the union of its direct
 * roles and the roles of its groups; each grant remembers where it came from.
 */
export const PERMISSIONS = {
  read: 'keys:read',
  write: 'keys:write',
  rotate: 'keys:rotate',
  delete: 'keys:delete',
  manageUsers: 'users:manage',
  readAudit: 'audit:read',
  all: '*',
} as const;

export const BUILTIN_GROUP = 'Administrators';
export const BUILTIN_ROLES: Record<string, string[]> = {
  Administrator: ['*'],
  KeyManager: ['keys:read', 'keys:write', 'keys:rotate', 'keys:delete'],
  ReadOnly: ['keys:read', 'audit:read'],
  Ingestion: ['data:ingest'],
};

export interface RoleGrant {
  role: string;
  permissions: string[];
  /** the group through which the role reaches the key; null for a directly assigned role */
  viaGroup: string | null;
}

export interface PermissionSource {
  permission: string;
  role: string;
  viaGroup: string | null;
}

/** Every (permission, source) pair, sorted for stable output; duplicates from distinct sources kept. */
export function permissionSources(grants: RoleGrant[]): PermissionSource[] {
  const rows: PermissionSource[] = [];
  const seen = new Set<string>();
  for (const grant of grants) {
    for (const permission of grant.permissions) {
      const id = `${permission}\0${grant.role}\0${grant.viaGroup ?? ''}`;
      if (seen.has(id)) continue;
      seen.add(id);
      rows.push({ permission, role: grant.role, viaGroup: grant.viaGroup });
    }
  }
  return rows.sort(
    (a, b) =>
      a.permission.localeCompare(b.permission) ||
      a.role.localeCompare(b.role) ||
      (a.viaGroup ?? '').localeCompare(b.viaGroup ?? ''),
  );
}

export function effectivePermissions(grants: RoleGrant[]): string[] {
  return [...new Set(grants.flatMap((g) => g.permissions))].sort();
}

/** "*" grants everything; "keys:*" grants every keys action. */
export function allows(permissions: Iterable<string>, wanted: string): boolean {
  const [resource] = wanted.split(':');
  for (const p of permissions) {
    if (p === '*' || p === wanted || p === `${resource}:*`) return true;
  }
  return false;
}
