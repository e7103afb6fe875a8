/**
 * Copying every row of one store into another, empty one, of either engine (`akm store copy`).
 * Both are at the same schema version (opening a store migrates it), so they have the same
 * tables and columns; the rows go over as they are (sealed secrets and MACs included: the
 * master key does not change), parents before children, in pages, read from one snapshot of
 * the source and written in one transaction on the target, so a failed copy leaves the target
 * empty. The service checks the result (service/local/storeCopy.ts).
 */
import { ConflictError, UnavailableError } from '../core/errors.js';
import type { Params, Queryable, Store } from './types.js';

interface Column {
  name: string;
  pk: number;
  identity: number;
}

interface TableShape {
  name: string;
  columns: Column[];
}

export interface CopiedTable {
  table: string;
  rows: number;
}

const PAGE = 500;
/** Rows per INSERT: well within both engines' limits on parameters. */
const BATCH = 50;

/** akm's tables with their columns, parents before the tables that refer to them. */
export async function describeTables(q: Queryable): Promise<TableShape[]> {
  const names = (await q.all<{ name: string }>(q.dialect.dataTables)).map((t) => t.name);
  const references = await q.all<{ tbl: string; ref: string }>(q.dialect.foreignKeys);
  const ordered: string[] = [];
  const visit = (name: string, path: string[]) => {
    if (ordered.includes(name) || path.includes(name)) return;
    for (const { ref } of references.filter((r) => r.tbl === name && r.ref !== name)) visit(ref, [...path, name]);
    ordered.push(name);
  };
  for (const name of names) visit(name, []);
  const shapes: TableShape[] = [];
  for (const name of ordered) shapes.push({ name, columns: await q.all<Column>(q.dialect.tableColumns, { name }) });
  return shapes;
}

/** Rows per table, for comparing two stores. */
export async function countRows(q: Queryable, tables: readonly string[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const table of tables)
    counts.set(table, Number((await q.get<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))!.n));
  return counts;
}

/**
 * A source table the target lacks, or has with other columns. (The target may have more: a new
 * store keeps the audit chain tables of schema 3 until its first run with the master key, which
 * finds them empty and drops them.)
 */
function missingIn(target: TableShape[], source: TableShape[]): string | undefined {
  const columns = (shape: TableShape | undefined) => JSON.stringify(shape?.columns.map((c) => c.name).sort());
  return source.find((s) => columns(s) !== columns(target.find((t) => t.name === s.name)))?.name;
}

/** Copy every row of `from` into `to`, which must hold none; returns the rows per table. */
export async function copyRows(from: Store, to: Store): Promise<CopiedTable[]> {
  return from.read(async (source) => {
    const tables = await describeTables(source);
    const target = await to.read(describeTables);
    const missing = missingIn(target, tables);
    if (missing !== undefined)
      throw new UnavailableError(`the table ${missing} of ${from.location} is not the same in ${to.location}`, {
        hint: 'copy between stores of the same akm version',
        code: 'store_mismatch',
      });
    return to.write(null, async (dest) => {
      const filled = [
        ...(await countRows(
          dest,
          target.map((t) => t.name),
        )),
      ].filter(([, n]) => n > 0);
      if (filled.length > 0)
        throw new ConflictError(`the target store ${to.location} is not empty (${filled[0]![0]} has rows)`, {
          hint: 'copy into a new SQLite file, or an empty PostgreSQL database or schema',
          code: 'store_not_empty',
        });
      const copied: CopiedTable[] = [];
      for (const table of tables) {
        const rows = await copyTable(source, dest, table);
        await followIds(
          dest,
          target.find((t) => t.name === table.name)!,
        );
        copied.push({ table: table.name, rows });
      }
      return copied;
    });
  });
}

async function copyTable(source: Queryable, dest: Queryable, table: TableShape): Promise<number> {
  const names = table.columns.map((c) => c.name);
  const key = table.columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk);
  const order = (key.length > 0 ? key.map((c) => c.name) : names).join(', ');
  let copied = 0;
  for (;;) {
    const rows = await source.all<Record<string, unknown>>(
      `SELECT ${names.join(', ')} FROM ${table.name} ORDER BY ${order} LIMIT ${PAGE} OFFSET ${copied}`,
    );
    for (let i = 0; i < rows.length; i += BATCH) await insertRows(dest, table.name, names, rows.slice(i, i + BATCH));
    copied += rows.length;
    if (rows.length < PAGE) break;
  }
  return copied;
}

/** The target's generated ids go on after the copied ones. */
async function followIds(dest: Queryable, table: TableShape): Promise<void> {
  for (const column of table.columns.filter((c) => c.identity === 1)) {
    const follow = dest.dialect.followIds(table.name, column.name);
    if (follow) await dest.get(follow);
  }
}

async function insertRows(
  dest: Queryable,
  table: string,
  names: string[],
  rows: Array<Record<string, unknown>>,
): Promise<void> {
  if (rows.length === 0) return;
  const params: Params = {};
  const tuples = rows.map((row, r) => {
    for (const name of names) params[`${name}_${r}`] = row[name] as Params[string];
    return `(${names.map((name) => `@${name}_${r}`).join(', ')})`;
  });
  await dest.run(`INSERT INTO ${table} (${names.join(', ')}) VALUES ${tuples.join(', ')}`, params);
}
