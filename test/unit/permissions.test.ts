import test from 'ava';
import {
  allows,
  BUILTIN_GROUP,
  BUILTIN_ROLES,
  effectivePermissions,
  permissionSources,
  type RoleGrant,
} from '../../src/core/permissions.js';

const grants: RoleGrant[] = [
  { role: 'Ingestion', permissions: ['data:ingest'], viaGroup: null },
  { role: 'ReadOnly', permissions: ['keys:read', 'audit:read'], viaGroup: 'Deployers' },
  { role: 'Deployer', permissions: ['deploy:run', 'keys:read'], viaGroup: 'Deployers' },
  { role: 'ReadOnly', permissions: ['keys:read', 'audit:read'], viaGroup: null },
  // the same grant reached twice (e.g. the role in two rows of the join) is listed once
  { role: 'Deployer', permissions: ['deploy:run', 'keys:read'], viaGroup: 'Deployers' },
];

test('effective permissions are the union of direct roles and group roles, sorted', (t) => {
  t.deepEqual(effectivePermissions(grants), ['audit:read', 'data:ingest', 'deploy:run', 'keys:read']);
  t.deepEqual(effectivePermissions([]), []);
});

test('each permission is reported with every role and group it comes from', (t) => {
  t.deepEqual(permissionSources(grants), [
    { permission: 'audit:read', role: 'ReadOnly', viaGroup: null },
    { permission: 'audit:read', role: 'ReadOnly', viaGroup: 'Deployers' },
    { permission: 'data:ingest', role: 'Ingestion', viaGroup: null },
    { permission: 'deploy:run', role: 'Deployer', viaGroup: 'Deployers' },
    { permission: 'keys:read', role: 'Deployer', viaGroup: 'Deployers' },
    { permission: 'keys:read', role: 'ReadOnly', viaGroup: null },
    { permission: 'keys:read', role: 'ReadOnly', viaGroup: 'Deployers' },
  ]);
});

test('sources and effective permissions agree, whatever the order of the grants', (t) => {
  const reversed = [...grants].reverse();
  t.deepEqual(permissionSources(reversed), permissionSources(grants));
  t.deepEqual([...new Set(permissionSources(reversed).map((s) => s.permission))], effectivePermissions(grants));
});

test('allows: exact, resource wildcard and "*"', (t) => {
  t.true(allows(['keys:read'], 'keys:read'));
  t.false(allows(['keys:read'], 'keys:write'));
  t.false(allows(['keys:read'], 'users:manage'));
  t.true(allows(['keys:*'], 'keys:delete'));
  t.false(allows(['keys:*'], 'users:manage'));
  t.false(allows(['keys:*'], 'keysx:read'));
  t.true(allows(['*'], 'users:manage'));
  t.true(allows(['*'], 'deploy:run'));
  t.false(allows([], 'keys:read'));
  t.false(allows(['data:ingest'], 'keys:read'));
  // a permission never grants by prefix
  t.false(allows(['keys:rea'], 'keys:read'));
  t.false(allows(['keys'], 'keys:read'));
});

test('the built-in group and roles are the documented ones', (t) => {
  t.is(BUILTIN_GROUP, 'Administrators');
  t.deepEqual(BUILTIN_ROLES.Administrator, ['*']);
  t.deepEqual(BUILTIN_ROLES.Ingestion, ['data:ingest']);
  t.true(allows(BUILTIN_ROLES.KeyManager!, 'keys:rotate'));
  t.false(allows(BUILTIN_ROLES.KeyManager!, 'users:manage'));
  t.true(allows(BUILTIN_ROLES.ReadOnly!, 'keys:read'));
  t.false(allows(BUILTIN_ROLES.ReadOnly!, 'keys:write'));
});
