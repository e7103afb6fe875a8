import type { Db } from './open.js';
import { sql } from './statements.js';

export interface TenantRow {
  id: string;
  name: string;
  operator: string;
  created_at: string;
}

export function getTenant(db: Db, id: string): TenantRow | undefined {
  return sql(db, 'SELECT * FROM tenants WHERE id = ?').get(id) as TenantRow | undefined;
}

export function firstTenant(db: Db): TenantRow | undefined {
  return sql(db, 'SELECT * FROM tenants ORDER BY created_at, id LIMIT 1').get() as TenantRow | undefined;
}

export function insertTenant(db: Db, row: TenantRow): void {
  sql(db, 'INSERT INTO tenants (id, name, operator, created_at) VALUES (@id, @name, @operator, @created_at)').run(row);
}

export function listTenants(db: Db): TenantRow[] {
  return sql(db, 'SELECT * FROM tenants ORDER BY created_at, id').all() as TenantRow[];
}
