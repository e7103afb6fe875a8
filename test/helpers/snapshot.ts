/** A dump of every table, to prove that a refused command changed nothing. */
import Database from 'better-sqlite3';
import { existsSync } from 'node:fs';

export function snapshot(path: string): string {
  if (!existsSync(path)) return '<no file>';
  const db = new Database(path, { readonly: true });
  try {
    const tables = db.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name").all() as Array<{
      name: string;
    }>;
    const dump: Record<string, unknown[]> = {};
    for (const { name } of tables) dump[name] = db.prepare(`SELECT * FROM "${name}"`).all();
    return JSON.stringify(dump, (_k, v) => (Buffer.isBuffer(v) ? v.toString('base64') : v));
  } finally {
    db.close();
  }
}
