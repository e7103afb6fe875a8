/**
 * Integrity MACs on PostgreSQL (the rules are in ../integrity.ts). PostgreSQL cannot compute
 * the MAC itself without being handed the key, which would then sit in its memory and,
 * depending on its logging, in its logs. So akm computes every MAC in the process:
 *
 *  - Reads: a query selects `intactSql(…)`, which on PostgreSQL is a JSON array holding each
 *    row's stored MAC and the values it covers; the store checks it as the rows arrive and puts
 *    1, 0 or NULL (no key) in its place, as SQLite's functions do.
 *  - Writes: triggers (made by migration 4, below) note each covered row a transaction changes,
 *    with the row as it was before its first change, in a temporary table of the session.
 *    Before the transaction commits, and before it reads a checked row again, the store takes
 *    those notes, refuses the change if a row was already altered before it, and writes the new
 *    MACs. A session without the key has no such table: its changes are left unsealed.
 *
 * The triggers are generated from COVERED: a change to COVERED needs a migration that makes
 * them again (`integrityTriggers()`), and a test compares what the store has with what this
 * file generates.
 */
import type { PoolClient } from 'pg';
import {
  COVERED,
  COVERED_TABLES,
  GRACE_COLUMNS,
  TamperedRecordError,
  macHolds,
  rowMac,
  type CoveredName,
  type CoveredTable,
  type IntactPart,
  type MacValue,
} from '../integrity.js';

/** Covered columns of type bytea: hex text in the JSON, so no setting of the server changes them. */
export const BYTEA_COLUMNS = new Set(['secret_digest', 'secret_sealed', 'previous_sealed', 'previous_digest']);
const ID_TYPES: Record<CoveredName, string> = { keys: 'text', roles: 'integer', groups: 'integer', users: 'integer' };
const MARK = 'akm_intact';
const GRACE = 'keys.grace';

const value = (q: string, column: string) =>
  BYTEA_COLUMNS.has(column) ? `encode(${q}.${column}, 'hex')` : `${q}.${column}`;

const hasGrace = (q: string) =>
  `(${q}.previous_sealed IS NOT NULL OR ${q}.previous_digest IS NOT NULL OR ${q}.previous_valid_until IS NOT NULL)`;

/**
 * What the triggers are made from: COVERED as it is now, or as it was when a migration ran
 * (a migration's DDL must name only the columns its schema version has).
 */
export interface CoverSpec {
  covered: Readonly<Record<CoveredName, CoveredTable>>;
  grace: readonly string[];
}

const CURRENT: CoverSpec = { covered: COVERED, grace: GRACE_COLUMNS };

/** What the MAC of a row covers, as a JSON array: kind, id, then name/value pairs (sets in a fixed order). */
function argsSql(table: CoveredName, q: string, cover: CoverSpec = CURRENT): string {
  const spec: CoveredTable = cover.covered[table];
  const columns = spec.columns.map((c) => `'${c}', ${value(q, c)}`);
  const sets = Object.entries(spec.sets).map(
    ([name, s]) =>
      `'set:${name}', (SELECT json_agg(s.${s.member} ORDER BY s.${s.member}::text COLLATE "C")
                         FROM ${s.table} s WHERE s.${s.parent} = ${q}.id)`,
  );
  return `json_build_array(${[`'${table}'`, `${q}.id`, ...columns, ...sets].join(', ')})`;
}

function graceArgsSql(q: string, cover: CoverSpec = CURRENT): string {
  const pairs = cover.grace.map((c) => `'${c}', ${value(q, c)}`);
  return `json_build_array(${[`'${GRACE}'`, `${q}.id`, ...pairs].join(', ')})`;
}

/** [stored MAC, covered values] and, for a key in its grace period, the same for the grace part. */
function partSql(table: CoveredName, q: string, cover: CoverSpec = CURRENT): string {
  const row = `encode(${q}.mac, 'hex'), ${argsSql(table, q, cover)}`;
  if (table !== 'keys') return `json_build_array(${row})`;
  const graceArgs = graceArgsSql(q, cover);
  const grace = `CASE WHEN ${hasGrace(q)} THEN json_build_array(encode(${q}.grace_mac, 'hex'), ${graceArgs}) END`;
  return `json_build_array(${row}, ${grace})`;
}

/** Dialect.intact: a JSON array the store turns into 1, 0 or NULL as the rows arrive (`checkRows`). */
export function postgresIntact(parts: readonly IntactPart[]): string {
  const each = parts.map(([table, alias, present]) =>
    present ? `CASE WHEN ${present} THEN ${partSql(table, alias)} END` : partSql(table, alias),
  );
  return `json_build_array('${MARK}', ${each.join(', ')})`;
}

type Part = [mac: string | null, args: MacValue[], grace?: [string | null, MacValue[]] | null];

/**
 * The values as SQLite hands them to its MAC function, so a row's MAC is the same on both
 * engines and a store copied from one to the other (akm store copy) keeps its MACs as they are:
 * bytes as bytes (they travel here as hex), a set as the JSON text of its members in SQLite's
 * order (numbers by value, text by code unit).
 */
function asSqlite(args: readonly MacValue[]): MacValue[] {
  const out = [...args];
  for (let i = 2; i + 1 < out.length; i += 2) {
    const [name, value] = [String(out[i]), out[i + 1]];
    if (BYTEA_COLUMNS.has(name) && typeof value === 'string') out[i + 1] = Buffer.from(value, 'hex');
    else if (name.startsWith('set:') && Array.isArray(value))
      out[i + 1] = JSON.stringify([...(value as unknown[])].sort(sqliteOrder));
  }
  return out;
}

function sqliteOrder(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const [x, y] = [String(a), String(b)];
  return x < y ? -1 : x > y ? 1 : 0;
}

/** The MAC of a row, from the values PostgreSQL returned for it. */
function pgRowMac(key: Buffer, args: readonly MacValue[]): Buffer {
  return rowMac(key, asSqlite(args));
}

function holds(key: Buffer, mac: string | null, args: MacValue[]): boolean {
  return mac !== null && macHolds(key, Buffer.from(mac, 'hex'), asSqlite(args));
}

function intactValue(key: Buffer | null, parts: unknown[]): 0 | 1 | null {
  if (!key) return null;
  for (const part of parts.slice(1) as Array<Part | null>) {
    if (part === null) continue;
    const [mac, args, grace] = part;
    if (!holds(key, mac, args)) return 0;
    if (grace && !holds(key, grace[0], grace[1])) return 0;
  }
  return 1;
}

const isCheck = (v: unknown): v is unknown[] => Array.isArray(v) && v[0] === MARK;

/** Does this SQL text select an integrity check? (Then its rows go through `checkRows`.) */
export const selectsCheck = (text: string) => text.includes(`'${MARK}'`);

/** Each check column of each row becomes 1, 0, or NULL when the store holds no key. In place. */
export function checkRows(key: Buffer | null, rows: Array<Record<string, unknown>>): void {
  for (const row of rows) {
    for (const column in row) {
      const v = row[column];
      if (isCheck(v)) row[column] = intactValue(key, v);
    }
  }
}

// ---- writes: the notes the triggers leave, checked and resealed in the process

/** Made once per connection, outside any transaction, when the store holds the key. */
export const DIRTY_TABLE = `CREATE TEMP TABLE IF NOT EXISTS akm_dirty (
    tbl   text NOT NULL,
    id    text NOT NULL,
    label text NOT NULL,
    old   json,
    PRIMARY KEY (tbl, id)
  ) ON COMMIT DELETE ROWS`;

interface Note {
  tbl: CoveredName | typeof GRACE;
  id: string;
  label: string;
  old: unknown[] | null;
}

/**
 * Take the notes of this transaction so far: refuse if a row was altered before this
 * transaction changed it, then write the MAC of each changed row as it is now.
 */
export async function settle(client: PoolClient, key: Buffer): Promise<void> {
  const { rows } = await client.query<Note>({
    name: 'akm_settle',
    text: 'DELETE FROM pg_temp.akm_dirty RETURNING tbl, id, label, old',
  });
  if (rows.length === 0) return;
  for (const note of rows) {
    if (note.old && intactValue(key, note.old) === 0)
      throw new TamperedRecordError(note.tbl as CoveredName, note.label);
  }
  for (const table of COVERED_TABLES) {
    const ids = rows.filter((n) => n.tbl === table).map((n) => n.id);
    if (ids.length > 0) await reseal(client, key, table, ids);
  }
  const graces = rows.filter((n) => n.tbl === GRACE).map((n) => n.id);
  if (graces.length > 0) await resealGraces(client, key, graces);
}

async function reseal(client: PoolClient, key: Buffer, table: CoveredName, ids: string[]): Promise<void> {
  const type = ID_TYPES[table];
  const { rows } = await client.query<{ id: string; args: MacValue[] }>({
    name: `akm_args_${table}`,
    text: `SELECT q.id::text AS id, ${argsSql(table, 'q')} AS args FROM ${table} q WHERE q.id = ANY($1::${type}[])`,
    values: [ids],
  });
  if (rows.length === 0) return; // deleted since
  await client.query({
    name: `akm_reseal_${table}`,
    text: `UPDATE ${table} t SET mac = u.mac FROM unnest($1::${type}[], $2::bytea[]) AS u(id, mac) WHERE t.id = u.id`,
    values: [rows.map((r) => r.id), rows.map((r) => pgRowMac(key, r.args))],
  });
}

async function resealGraces(client: PoolClient, key: Buffer, ids: string[]): Promise<void> {
  const { rows } = await client.query<{ id: string; args: MacValue[] }>({
    name: 'akm_args_grace',
    text: `SELECT q.id, ${graceArgsSql('q')} AS args FROM keys q WHERE q.id = ANY($1::text[]) AND ${hasGrace('q')}`,
    values: [ids],
  });
  if (rows.length === 0) return;
  await client.query({
    name: 'akm_reseal_grace',
    text: `UPDATE keys t SET grace_mac = u.mac FROM unnest($1::text[], $2::bytea[]) AS u(id, mac) WHERE t.id = u.id`,
    values: [rows.map((r) => r.id), rows.map((r) => pgRowMac(key, r.args))],
  });
}

const RESEAL_BATCH = 1000;

/**
 * Every covered row (and grace part) sealed under `key`, a batch at a time (a master key
 * rotation); the number of rows. The caller has settled the transaction's notes first.
 */
export async function resealEveryRow(client: PoolClient, key: Buffer): Promise<number> {
  let rows = 0;
  for (const table of COVERED_TABLES) {
    const { rows: ids } = await client.query<{ id: string }>(`SELECT id::text AS id FROM ${table} ORDER BY id`);
    for (let i = 0; i < ids.length; i += RESEAL_BATCH)
      await reseal(
        client,
        key,
        table,
        ids.slice(i, i + RESEAL_BATCH).map((r) => r.id),
      );
    rows += ids.length;
  }
  const { rows: graces } = await client.query<{ id: string }>(`SELECT q.id FROM keys q WHERE ${hasGrace('q')}`);
  for (let i = 0; i < graces.length; i += RESEAL_BATCH)
    await resealGraces(
      client,
      key,
      graces.slice(i, i + RESEAL_BATCH).map((r) => r.id),
    );
  return rows;
}

/** Notes for every covered row: a store whose rows a migration left unsealed (trust on first use). */
export function noteEveryRow(): string[] {
  return [
    ...COVERED_TABLES.map(
      (t) =>
        `INSERT INTO pg_temp.akm_dirty (tbl, id, label, old)
         SELECT '${t}', id::text, ${COVERED[t].label}::text, NULL FROM ${t} ON CONFLICT DO NOTHING`,
    ),
    `INSERT INTO pg_temp.akm_dirty (tbl, id, label, old)
     SELECT '${GRACE}', id, id, NULL FROM keys q WHERE ${hasGrace('q')} ON CONFLICT DO NOTHING`,
  ];
}

// ---- the triggers, made by a migration

/**
 * The DDL of the triggers that note changes. Security is not their job (whoever can write the
 * tables can drop them): they only tell akm's own sessions what to check and reseal.
 */
export function integrityTriggers(cover: CoverSpec = CURRENT): string {
  const note = `
    CREATE OR REPLACE FUNCTION akm_note(p_tbl text, p_id text, p_label text, p_old json) RETURNS void
      LANGUAGE plpgsql AS $$
    BEGIN
      -- Only a session that holds the key has the table (postgres/integrity.ts).
      IF to_regclass('pg_temp.akm_dirty') IS NOT NULL THEN
        INSERT INTO pg_temp.akm_dirty (tbl, id, label, old) VALUES (p_tbl, p_id, p_label, p_old)
          ON CONFLICT DO NOTHING;
      END IF;
    END $$;`;
  return [note, ...COVERED_TABLES.map((t) => tableTriggers(t, cover)), graceTrigger(cover)].join('\n');
}

const before = (table: CoveredName, q: string, cover: CoverSpec) =>
  `json_build_array('${MARK}', ${partSql(table, q, cover)})`;

function tableTriggers(table: CoveredName, cover: CoverSpec): string {
  const spec: CoveredTable = cover.covered[table];
  const own = `
    CREATE OR REPLACE FUNCTION akm_touch_${table}() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      IF TG_OP = 'INSERT' THEN
        PERFORM akm_note('${table}', NEW.id::text, NEW.${spec.label}::text, NULL);
        RETURN NULL;
      END IF;
      PERFORM akm_note('${table}', OLD.id::text, OLD.${spec.label}::text, ${before(table, 'OLD', cover)});
      RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS akm_${table}_check ON ${table};
    CREATE TRIGGER akm_${table}_check BEFORE UPDATE OF ${spec.columns.join(', ')} ON ${table}
      FOR EACH ROW EXECUTE FUNCTION akm_touch_${table}();
    DROP TRIGGER IF EXISTS akm_${table}_new ON ${table};
    CREATE TRIGGER akm_${table}_new AFTER INSERT ON ${table}
      FOR EACH ROW EXECUTE FUNCTION akm_touch_${table}();`;
  const links = Object.values(spec.sets).map(
    (s) => `
    CREATE OR REPLACE FUNCTION akm_touch_${s.table}() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    DECLARE
      parent ${s.table}.${s.parent}%TYPE;
    BEGIN
      IF TG_OP = 'DELETE' THEN parent := OLD.${s.parent}; ELSE parent := NEW.${s.parent}; END IF;
      PERFORM akm_note('${table}', p.id::text, p.${spec.label}::text, ${before(table, 'p', cover)})
         FROM ${table} p WHERE p.id = parent;
      IF TG_OP = 'DELETE' THEN RETURN OLD; END IF;
      RETURN NEW;
    END $$;
    DROP TRIGGER IF EXISTS akm_${s.table}_touch ON ${s.table};
    CREATE TRIGGER akm_${s.table}_touch BEFORE INSERT OR DELETE ON ${s.table}
      FOR EACH ROW EXECUTE FUNCTION akm_touch_${s.table}();`,
  );
  return own + links.join('');
}

function graceTrigger(cover: CoverSpec): string {
  return `
    CREATE OR REPLACE FUNCTION akm_touch_grace() RETURNS trigger
      LANGUAGE plpgsql SET search_path FROM CURRENT AS $$
    BEGIN
      PERFORM akm_note('${GRACE}', NEW.id, NEW.id, NULL);
      RETURN NULL;
    END $$;
    DROP TRIGGER IF EXISTS akm_keys_grace ON keys;
    CREATE TRIGGER akm_keys_grace AFTER UPDATE OF ${cover.grace.join(', ')} ON keys
      FOR EACH ROW WHEN ${hasGrace('NEW')} EXECUTE FUNCTION akm_touch_grace();`;
}
