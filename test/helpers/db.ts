/** Looking at a SQLite store file from outside akm: its schema, file hashes, raw connections. */
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { existsSync, readdirSync, readFileSync } from 'node:fs';

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
