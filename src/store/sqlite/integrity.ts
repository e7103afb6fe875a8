/**
 * Integrity MACs on SQLite (the rules are in ../integrity.ts). The MAC is a SQL function
 * written in JavaScript (akm_row_mac, akm_intact) on each connection; once the connection holds
 * the key, temporary triggers on it check a row's MAC before any change to it and reseal it
 * after. A connection without the key has no triggers: whatever it writes stays unsealed.
 */
import {
  COVERED,
  COVERED_TABLES,
  GRACE_COLUMNS,
  META_INTEGRITY_PENDING,
  TamperedRecordError,
  macHolds,
  rowMac,
  type CoveredName,
  type CoveredTable,
  type IntactPart,
  type MacValue,
} from '../integrity.js';
import type { Db } from './open.js';
import { lockedTransaction, sql } from './statements.js';

const HAS_GRACE = (q: string) => `coalesce(${q}.previous_sealed, ${q}.previous_digest, ${q}.previous_valid_until)`;

// ---- the SQL side: argument lists for the MAC functions, generated from COVERED

function macArgs(table: CoveredName, q: string): string {
  const spec: CoveredTable = COVERED[table];
  const columns = spec.columns.map((c) => `'${c}', ${q}.${c}`);
  const sets = Object.entries(spec.sets).map(
    ([name, s]) =>
      `'set:${name}', nullif((SELECT json_group_array(${s.member} ORDER BY ${s.member})
                              FROM ${s.table} WHERE ${s.parent} = ${q}.id), '[]')`,
  );
  return [`'${table}'`, `${q}.id`, ...columns, ...sets].join(', ');
}

function graceArgs(q: string): string {
  return [`'keys.grace'`, `${q}.id`, ...GRACE_COLUMNS.map((c) => `'${c}', ${q}.${c}`)].join(', ');
}

function intactOne(table: CoveredName, q: string): string {
  const row = `akm_intact(${q}.mac, ${macArgs(table, q)})`;
  if (table !== 'keys') return row;
  return `(${row} AND (${HAS_GRACE(q)} IS NULL OR akm_intact(${q}.grace_mac, ${graceArgs(q)})))`;
}

/** Dialect.intact: 1, 0, or NULL (no key), by SQL's three-valued AND. */
export function sqliteIntact(parts: readonly IntactPart[]): string {
  const each = parts.map(([table, alias, present]) =>
    present ? `(NOT (${present}) OR ${intactOne(table, alias)})` : intactOne(table, alias),
  );
  return `(${each.join(' AND ')})`;
}

// ---- the functions, on every connection

interface Slot {
  key: Buffer | null;
}
const slots = new WeakMap<Db, Slot>();

/** Called by openDatabase for every connection: the functions exist from the start, keyless. */
export function installIntegrityFunctions(db: Db): void {
  const slot: Slot = { key: null };
  slots.set(db, slot);
  db.function('akm_row_mac', { varargs: true }, (...args: MacValue[]) => (slot.key ? rowMac(slot.key, args) : null));
  db.function('akm_intact', { varargs: true }, (stored: MacValue, ...args: MacValue[]) => {
    if (!slot.key) return null;
    return macHolds(slot.key, stored, args) ? 1 : 0;
  });
  db.function('akm_refuse', (table: MacValue, row: MacValue) => {
    throw new TamperedRecordError(table as CoveredName, String(row));
  });
}

/**
 * Give this connection the key: from now on its reads are checked and its writes checked and
 * resealed by the database. A store upgraded from before integrity MACs gets them now, on its
 * first run with the master key: trust on first use, like the audit head.
 */
export function attachIntegrity(db: Db, key: Buffer): void {
  const slot = slots.get(db);
  if (!slot) throw new Error('attachIntegrity: the connection was not opened by openDatabase');
  if (slot.key) return;
  slot.key = key;
  db.exec(COVERED_TABLES.map(triggersFor).join('\n') + graceTrigger());
  sealPending(db);
}

function triggersFor(table: CoveredName): string {
  const spec: CoveredTable = COVERED[table];
  const columns = spec.columns.join(', ');
  const reseal = (id: string) => `UPDATE ${table} SET mac = akm_row_mac(${macArgs(table, table)}) WHERE id = ${id};`;
  const refuseUnless = (q: string) =>
    `SELECT akm_refuse('${table}', ${q}.${spec.label}) WHERE NOT ${intactOne(table, q)};`;
  const own = `
    CREATE TEMP TRIGGER akm_${table}_check BEFORE UPDATE OF ${columns} ON main.${table}
      BEGIN ${refuseUnless('OLD')} END;
    CREATE TEMP TRIGGER akm_${table}_seal AFTER UPDATE OF ${columns} ON main.${table}
      BEGIN ${reseal('NEW.id')} END;
    CREATE TEMP TRIGGER akm_${table}_new AFTER INSERT ON main.${table}
      BEGIN ${reseal('NEW.id')} END;`;
  const links = Object.values(spec.sets).map((s) => {
    const parentOf = (q: string) =>
      `SELECT akm_refuse('${table}', p.${spec.label}) FROM ${table} p
        WHERE p.id = ${q}.${s.parent} AND NOT ${intactOne(table, 'p')};`;
    return `
    CREATE TEMP TRIGGER akm_${s.table}_check_add BEFORE INSERT ON main.${s.table} BEGIN ${parentOf('NEW')} END;
    CREATE TEMP TRIGGER akm_${s.table}_check_remove BEFORE DELETE ON main.${s.table} BEGIN ${parentOf('OLD')} END;
    CREATE TEMP TRIGGER akm_${s.table}_seal_add AFTER INSERT ON main.${s.table}
      BEGIN ${reseal(`NEW.${s.parent}`)} END;
    CREATE TEMP TRIGGER akm_${s.table}_seal_remove AFTER DELETE ON main.${s.table}
      BEGIN ${reseal(`OLD.${s.parent}`)} END;`;
  });
  return own + links.join('');
}

function graceTrigger(): string {
  return `
    CREATE TEMP TRIGGER akm_keys_grace AFTER UPDATE OF ${GRACE_COLUMNS.join(', ')} ON main.keys
      WHEN ${HAS_GRACE('NEW')} IS NOT NULL
      BEGIN UPDATE keys SET grace_mac = akm_row_mac(${graceArgs('keys')}) WHERE id = NEW.id; END;`;
}

/** Rows of a store upgraded from before these MACs wait for the first run with the key. */
export function sealingPendingSync(db: Db): boolean {
  return !!sql(db, 'SELECT 1 FROM meta WHERE key = ?').get(META_INTEGRITY_PENDING);
}

function sealPending(db: Db): void {
  if (db.readonly || !sealingPendingSync(db)) return;
  lockedTransaction(db, () => {
    if (!sealingPendingSync(db)) return;
    sealEveryRow(db);
    sql(db, 'DELETE FROM meta WHERE key = ?').run(META_INTEGRITY_PENDING);
  });
}

/** Every covered row's MAC (and each grace part's) under the connection's key; the number of rows. */
function sealEveryRow(db: Db): number {
  let rows = 0;
  for (const table of COVERED_TABLES)
    rows += sql(db, `UPDATE ${table} SET mac = akm_row_mac(${macArgs(table, table)})`).run().changes;
  db.exec(`UPDATE keys SET grace_mac = akm_row_mac(${graceArgs('keys')}) WHERE ${HAS_GRACE('keys')} IS NOT NULL`);
  return rows;
}

/**
 * Inside a write transaction (a master key rotation): from now on this connection checks and
 * seals with `key`, and every covered row is sealed with it now. Returns the key it held before,
 * which the caller puts back (`setIntegrityKey`) if the transaction does not commit.
 */
export function rekeyIntegrity(db: Db, key: Buffer): { previous: Buffer; rows: number } {
  const slot = slots.get(db);
  if (!slot?.key) throw new Error('rekeyIntegrity: the connection holds no integrity key');
  const previous = slot.key;
  slot.key = key;
  return { previous, rows: sealEveryRow(db) };
}

export function setIntegrityKey(db: Db, key: Buffer): void {
  slots.get(db)!.key = key;
}
