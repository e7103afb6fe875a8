import type { Queryable } from './types.js';

export interface TenantRow {
  id: string;
  name: string;
  operator: string;
  created_at: string;
}

export function getTenant(q: Queryable, id: string): Promise<TenantRow | undefined> {
  return q.get<TenantRow>('SELECT * FROM tenants WHERE id = @id', { id });
}

export function firstTenant(q: Queryable): Promise<TenantRow | undefined> {
  return q.get<TenantRow>('SELECT * FROM tenants ORDER BY created_at, id LIMIT 1');
}

export async function insertTenant(q: Queryable, row: TenantRow): Promise<void> {
  await q.run('INSERT INTO tenants (id, name, operator, created_at) VALUES (@id, @name, @operator, @created_at)', {
    ...row,
  });
}

export function listTenants(q: Queryable): Promise<TenantRow[]> {
  return q.all<TenantRow>('SELECT * FROM tenants ORDER BY created_at, id');
}
