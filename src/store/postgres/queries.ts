/**
 * How akm's SQL runs on PostgreSQL: the dialect's differences from SQLite, `@name` parameters
 * as `$n` in named prepared statements, and the queries of one transaction, which keep the
 * integrity MACs of what they change settled (postgres/integrity.ts).
 */
import type { PoolClient, QueryConfig } from 'pg';
import type { Dialect, Params, Queryable } from '../types.js';
import { checkRows, postgresIntact, resealEveryRow, selectsCheck, settle } from './integrity.js';

export const POSTGRES: Dialect = {
  engine: 'postgres',
  forUpdate: ' FOR UPDATE',
  forShare: ' FOR SHARE',
  skipLocked: ' FOR UPDATE SKIP LOCKED',
  schemaVersion: 'SELECT version FROM akm_schema',
  dataTables: `SELECT table_name AS name FROM information_schema.tables
                WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'akm_schema'
                ORDER BY 1`,
  foreignKeys: `SELECT conrelid::regclass::text AS tbl, confrelid::regclass::text AS ref FROM pg_constraint
                 WHERE contype = 'f' AND connamespace = current_schema()::regnamespace`,
  tableColumns: `SELECT c.column_name AS name, coalesce(k.ordinal_position, 0) AS pk,
                        CASE WHEN c.is_identity = 'YES' THEN 1 ELSE 0 END AS "identity"
                   FROM information_schema.columns c
                   LEFT JOIN information_schema.table_constraints p
                     ON p.table_schema = c.table_schema AND p.table_name = c.table_name
                    AND p.constraint_type = 'PRIMARY KEY'
                   LEFT JOIN information_schema.key_column_usage k
                     ON k.constraint_schema = p.constraint_schema AND k.constraint_name = p.constraint_name
                    AND k.column_name = c.column_name
                  WHERE c.table_schema = current_schema() AND c.table_name = @name
                  ORDER BY c.ordinal_position`,
  followIds: (table, column) =>
    `SELECT setval(pg_get_serial_sequence('${table}', '${column}'), coalesce(max(${column}), 0) + 1, false)
       FROM ${table}`,
  jsonList: (select) => `(SELECT coalesce(json_agg(s.v ORDER BY s.v), '[]')::text FROM (${select}) s)`,
  jsonField: (column, field) => `(${column}::jsonb ->> '${field}')`,
  isUniqueViolation: (error) => (error as { code?: unknown } | null)?.code === '23505',
  intact: postgresIntact,
  tableExists: 'SELECT 1 WHERE to_regclass(@name) IS NOT NULL',
};

interface Translated {
  name: string;
  text: string;
  names: string[];
  /** selects an integrity check (postgres/integrity.ts) */
  checks: boolean;
  /** changes rows: in a write transaction, covered rows may need resealing before the next check */
  writes: boolean;
}

const translations = new Map<string, Translated>();

/**
 * `@name` → `$n`, once per SQL text. Each text becomes a named prepared statement, parsed and
 * planned once per connection. Quoted strings are left alone.
 */
function translate(sql: string): Translated {
  let found = translations.get(sql);
  if (found) return found;
  const names: string[] = [];
  const text = sql.replace(/'(?:[^']|'')*'|@([A-Za-z_][A-Za-z0-9_]*)/g, (match, name?: string) => {
    if (name === undefined) return match;
    const at = names.indexOf(name);
    if (at >= 0) return `$${at + 1}`;
    names.push(name);
    return `$${names.length}`;
  });
  found = {
    name: `akm_${translations.size + 1}`,
    text,
    names,
    checks: selectsCheck(text),
    writes: /^\s*(INSERT|UPDATE|DELETE)\b/i.test(text),
  };
  translations.set(sql, found);
  return found;
}

function query(translated: Translated, params: Params | undefined): QueryConfig {
  const { name, text, names } = translated;
  const values = names.map((n) => {
    if (!params || !(n in params)) throw new Error(`missing named parameter @${n}`);
    return params[n] ?? null;
  });
  return { name, text, values };
}

/**
 * The queries of one transaction. With the integrity key, a write transaction settles the
 * integrity notes of the covered rows it changed (postgres/integrity.ts) before it reads a
 * checked row again and before it commits, as SQLite's triggers reseal a row at once.
 */
export class PostgresQueries implements Queryable {
  readonly dialect = POSTGRES;
  /** a statement has changed rows since the notes were last settled */
  private unsettled = false;

  constructor(
    private readonly client: PoolClient,
    /** the integrity key, in a write transaction of a store that holds it */
    private sealing: Buffer | null,
    private checking: Buffer | null,
  ) {}

  async all<T>(sql: string, params?: Params): Promise<T[]> {
    return (await this.execute(sql, params)).rows as T[];
  }

  async get<T>(sql: string, params?: Params): Promise<T | undefined> {
    return (await this.execute(sql, params)).rows[0] as T | undefined;
  }

  async run(sql: string, params?: Params): Promise<number> {
    return (await this.execute(sql, params)).rowCount ?? 0;
  }

  /** A master key rotation: every covered row under `key`, which the rest of the transaction uses. */
  async rekey(key: Buffer): Promise<number> {
    await this.settle();
    const rows = await resealEveryRow(this.client, key);
    this.sealing = key;
    this.checking = key;
    return rows;
  }

  /** Before COMMIT: the MACs of what this transaction changed. */
  async settle(): Promise<void> {
    if (!this.sealing || !this.unsettled) return;
    this.unsettled = false;
    await settle(this.client, this.sealing);
  }

  private async execute(sql: string, params: Params | undefined) {
    const translated = translate(sql);
    if (translated.checks) await this.settle();
    if (translated.writes) this.unsettled = true;
    const result = await this.client.query(query(translated, params));
    if (translated.checks) checkRows(this.checking, result.rows as Array<Record<string, unknown>>);
    return result;
  }
}
