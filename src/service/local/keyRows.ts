/** What the key operations share: a key's view, its row reloaded, groups and roles by name. */
import * as keyAssignments from '../../store/keyAssignments.js';
import * as keysTable from '../../store/keys.js';
import type { KeyView } from '../types.js';
import { toKeyView, type CheckedScope, type Scope } from './context.js';
import { mustGroup, mustRole } from './lookups.js';

export async function view(s: Scope, row: keysTable.KeyRow): Promise<KeyView> {
  const [groups, roles] = [
    await keyAssignments.keyGroupNames(s.q, row.id),
    await keyAssignments.keyRoleNames(s.q, row.id),
  ];
  return toKeyView(row, groups, roles, s.now());
}

export async function reload(s: Scope, id: string): Promise<keysTable.KeyRow> {
  return (await keysTable.getKey(s.q, s.tenant.id, id))!;
}

export async function groupIds(s: CheckedScope, names: string[]): Promise<Array<{ id: number; name: string }>> {
  const rows = [];
  for (const name of names) rows.push(await mustGroup(s, name));
  return rows;
}

export async function roleIds(s: CheckedScope, names: string[]): Promise<Array<{ id: number; name: string }>> {
  const rows = [];
  for (const name of names) rows.push(await mustRole(s, name));
  return rows;
}
