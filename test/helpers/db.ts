/** Looking at a SQLite store file from outside akm: table dumps, its schema, file hashes, raw connections. */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

export type TableDump = Record<string, string[]>;

/** A cell as a dump shows it: bytes as hex. */
export function cell(value: unknown): unknown {
  return Buffer.isBuffer(value) ? `x'${value.toString('hex')}'` : value;
}

/** Every row of every table of a SQLite file, canonical (rows sorted): equal dumps mean equal data. */
export function dumpTables(path: string): TableDump {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    const tables = db
      .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
      .all() as Array<{ name: string }>;
    const dump: TableDump = {};
    for (const { name } of tables) {
      const rows = db.prepare(`SELECT * FROM "${name}"`).all() as Array<Record<string, unknown>>;
      dump[name] = rows.map((row) => JSON.stringify(Object.entries(row).map(([k, v]) => [k, cell(v)]))).sort();
    }
    dump['#user_version'] = [String(db.pragma('user_version', { simple: true }))];
    return dump;
  } finally {
    db.close();
  }
}

/** The schema as SQLite stores it (sorted), for "old or new, never a mix" comparisons. */
export function schemaOf(path: string): string[] {
  const db = new Database(path, { readonly: true, fileMustExist: true });
  try {
    return (
      db
        .prepare(
          "SELECT type, name, tbl_name, sql FROM sqlite_schema WHERE name NOT LIKE 'sqlite_%' ORDER BY type, name",
        )
        .all() as Array<Record<string, string>>
    ).map((r) => JSON.stringify(r));
  } finally {
    db.close();
  }
}

export function sha256File(path: string): string {
  return createHash('sha256').update(readFileSync(path)).digest('hex');
}

/** The store and its -wal/-shm companions, as bytes (absent ones skipped). */
export function storeFiles(path: string): Array<{ path: string; bytes: Buffer }> {
  return [path, `${path}-wal`, `${path}-shm`, `${path}-journal`]
    .filter((p) => existsSync(p))
    .map((p) => ({ path: p, bytes: readFileSync(p) }));
}

export function listDir(dir: string): string[] {
  return readdirSync(dir).sort();
}

/** A connection that bypasses akm, for tampering and for inspecting what a crash left. */
export function rawDb(path: string): Database.Database {
  return new Database(path, { fileMustExist: true });
}
