/**
 * The SQLite engine reads rows as arrays and makes the objects itself (store/sqlite/statements.ts):
 * they must be exactly what better-sqlite3 would have made, for every kind of value and name.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { allRows } from '../../src/store/sqlite/statements.js';

test('rows made from arrays equal better-sqlite3 objects: types, NULL, odd names, repeated names', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'akm-rows-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const db = new Database(join(dir, 'rows.db'));
  t.teardown(() => db.close());
  db.exec(`CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT, data BLOB, score REAL)`);
  db.prepare('INSERT INTO t (name, data, score) VALUES (?, ?, ?)').run('a"b\\c', Buffer.from([0, 1, 2]), 1.5);
  db.prepare('INSERT INTO t (name, data, score) VALUES (?, ?, ?)').run(null, null, null);
  const queries = [
    'SELECT * FROM t ORDER BY id',
    `SELECT id, name AS "odd ""name"" \\ here", name AS "1", score AS "constructor" FROM t WHERE id >= @from`,
    'SELECT id AS x, name AS x FROM t',
    'SELECT 1 AS "__proto__", 2 AS a',
    'SELECT id FROM t WHERE 0',
  ];
  for (const text of queries) {
    const params = text.includes('@from') ? { from: 1 } : undefined;
    const expected = params ? db.prepare(text).all(params) : db.prepare(text).all();
    const statement = db.prepare(text);
    t.deepEqual(allRows(statement, params), expected, text);
    t.deepEqual(allRows(statement, params), expected, `${text}, again`);
    t.deepEqual(statement.get(params ?? {}), expected[0], `${text}: the statement still gives objects`);
  }
});
