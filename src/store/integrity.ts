/**
 * Integrity at rest for the rows that decide authentication and authorization: keys (with
 * their role and group assignments), roles (with their permissions), groups (with their roles
 * and members) and users. Each such row carries a MAC under a key derived from the master
 * key, so someone who can write the database file but does not hold the master key cannot
 * flip a status, move an expiry, add a role or a permission, or join Administrators unseen.
 *
 * The MAC covers the row's own columns and the sets of link rows that belong to it, so
 * deleting a link shows as well as adding one. The database keeps the MACs current itself:
 * once a connection holds the key (attachIntegrity), temporary triggers on it check a row's
 * MAC before any change to it and reseal it after. A change to a row that was already altered
 * is refused, so akm never "launders" tampering by resealing it. Connections without the key
 * have no triggers: whatever they write stays unsealed and shows as tampered.
 *
 * Reads check too: the store's lookups select `intactSql(…)` beside each row and refuse a row
 * whose MAC does not hold (TamperedRecordError, exit 6). Before the key is loaded the check
 * yields NULL (unknown), which callers treat as unchecked: every decision path loads the key
 * first.
 *
 * The previous secret of a rotation has a MAC of its own (bound to the current secret), so the
 * write that erases it once its grace has ended needs no key (statements.ts).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AkmError, ExitCode } from '../core/errors.js';
import { printable } from '../core/validate.js';
import type { Db } from './open.js';
import { sql, writeTransaction } from './statements.js';

interface LinkedSet {
  /** the link table, its column naming the covered row, and its column naming the member */
  table: string;
  parent: string;
  member: string;
}

interface CoveredTable {
  /** the column that names a row in messages */
  label: string;
  /**
   * The columns the MAC covers: adding one is this one line. A NULL value is left out of the
   * MAC, so a new nullable column (NULL meaning "as before") leaves existing MACs valid.
   */
  columns: readonly string[];
  sets: Readonly<Record<string, LinkedSet>>;
}

export const COVERED = {
  keys: {
    label: 'id',
    columns: [
      'tenant_id',
      'owner_id',
      'type',
      'status',
      'deactivated_by_admin',
      'expires_at',
      'secret_digest',
      'secret_sealed',
    ],
    sets: {
      roles: { table: 'key_roles', parent: 'key_id', member: 'role_id' },
      groups: { table: 'key_groups', parent: 'key_id', member: 'group_id' },
    },
  },
  roles: {
    label: 'name',
    columns: ['tenant_id', 'name', 'builtin'],
    sets: { permissions: { table: 'role_permissions', parent: 'role_id', member: 'permission' } },
  },
  groups: {
    label: 'name',
    columns: ['tenant_id', 'name', 'builtin'],
    sets: {
      roles: { table: 'group_roles', parent: 'group_id', member: 'role_id' },
      members: { table: 'group_members', parent: 'group_id', member: 'user_id' },
    },
  },
  users: { label: 'email', columns: ['tenant_id', 'email'], sets: {} },
} as const satisfies Record<string, CoveredTable>;

export type CoveredName = keyof typeof COVERED;
const TABLES = Object.keys(COVERED) as CoveredName[];

/** The previous secret of a rotation and its end, bound to the secret that replaced it. */
const GRACE_COLUMNS = ['secret_digest', 'previous_sealed', 'previous_digest', 'previous_valid_until'];
const HAS_GRACE = (q: string) => `coalesce(${q}.previous_sealed, ${q}.previous_digest, ${q}.previous_valid_until)`;

const NOUNS: Record<CoveredName, string> = { keys: 'key', roles: 'role', groups: 'group', users: 'user' };

/** A row whose MAC does not hold: the store was written by someone without the master key. */
export class TamperedRecordError extends AkmError {
  constructor(
    readonly table: CoveredName,
    readonly row: string,
  ) {
    super(
      `the ${NOUNS[table]} ${printable(row, 80)} was changed outside akm: its integrity check failed`,
      ExitCode.unavailable,
      {
        code: 'tampered_record',
        hint: 'restore the store from a backup you trust; `akm audit verify` lists every altered row',
      },
    );
  }
}

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

/**
 * An expression that is 1 when the row `q` of `table` (and, for a key, its grace part) is
 * intact, 0 when it is not, and NULL while this connection does not hold the key.
 */
export function intactSql(table: CoveredName, q: string): string {
  const row = `akm_intact(${q}.mac, ${macArgs(table, q)})`;
  if (table !== 'keys') return row;
  return `(${row} AND (${HAS_GRACE(q)} IS NULL OR akm_intact(${q}.grace_mac, ${graceArgs(q)})))`;
}

// ---- the JavaScript side: the canonical form and the MAC

type SqlValue = string | number | bigint | Buffer | null;

/** kind, id, then name/value pairs; NULL values are left out (see CoveredTable.columns). */
function canonical(args: SqlValue[]): string {
  const parts: string[] = [String(args[0]), tagged(args[1] ?? null)];
  for (let i = 2; i + 1 < args.length; i += 2) {
    const value = args[i + 1] ?? null;
    if (value !== null) parts.push(String(args[i]), tagged(value));
  }
  return JSON.stringify(parts);
}

function tagged(value: SqlValue): string {
  if (Buffer.isBuffer(value)) return `b:${value.toString('hex')}`;
  if (typeof value === 'string') return `s:${value}`;
  return `n:${String(value)}`;
}

function rowMac(key: Buffer, args: SqlValue[]): Buffer {
  return createHmac('sha256', key)
    .update(`akm row v1\n${canonical(args)}`)
    .digest();
}

interface Slot {
  key: Buffer | null;
}
const slots = new WeakMap<Db, Slot>();

/** Called by openDatabase for every connection: the functions exist from the start, keyless. */
export function installIntegrityFunctions(db: Db): void {
  const slot: Slot = { key: null };
  slots.set(db, slot);
  db.function('akm_row_mac', { varargs: true }, (...args: SqlValue[]) => (slot.key ? rowMac(slot.key, args) : null));
  db.function('akm_intact', { varargs: true }, (stored: SqlValue, ...args: SqlValue[]) => {
    if (!slot.key) return null;
    const expected = rowMac(slot.key, args);
    return Buffer.isBuffer(stored) && stored.length === expected.length && timingSafeEqual(stored, expected) ? 1 : 0;
  });
  db.function('akm_refuse', (table: SqlValue, row: SqlValue) => {
    throw new TamperedRecordError(table as CoveredName, String(row));
  });
}

const META_INTEGRITY_PENDING = 'integrity_pending';

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
  db.exec(TABLES.map(triggersFor).join('\n') + graceTrigger());
  sealPending(db);
}

function triggersFor(table: CoveredName): string {
  const spec: CoveredTable = COVERED[table];
  const columns = spec.columns.join(', ');
  const reseal = (id: string) => `UPDATE ${table} SET mac = akm_row_mac(${macArgs(table, table)}) WHERE id = ${id};`;
  const refuseUnless = (q: string) =>
    `SELECT akm_refuse('${table}', ${q}.${spec.label}) WHERE NOT ${intactSql(table, q)};`;
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
        WHERE p.id = ${q}.${s.parent} AND NOT ${intactSql(table, 'p')};`;
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
export function sealingPending(db: Db): boolean {
  return !!sql(db, 'SELECT 1 FROM meta WHERE key = ?').get(META_INTEGRITY_PENDING);
}

function sealPending(db: Db): void {
  if (!sealingPending(db)) return;
  writeTransaction(db, () => {
    if (!sealingPending(db)) return;
    for (const table of TABLES) db.exec(`UPDATE ${table} SET mac = akm_row_mac(${macArgs(table, table)})`);
    db.exec(`UPDATE keys SET grace_mac = akm_row_mac(${graceArgs('keys')}) WHERE ${HAS_GRACE('keys')} IS NOT NULL`);
    sql(db, 'DELETE FROM meta WHERE key = ?').run(META_INTEGRITY_PENDING);
  });
}

/** A row as read with its `intact` column: refuse it when the check failed (0), pass it otherwise. */
export function checked<T extends { intact?: number | null }>(
  table: CoveredName,
  label: (row: T) => string,
  row: T | undefined,
): Omit<T, 'intact'> | undefined {
  if (!row) return undefined;
  const { intact, ...rest } = row;
  if (intact === 0) throw new TamperedRecordError(table, label(row));
  return rest;
}

export interface TamperedRow {
  table: CoveredName;
  row: string;
  message: string;
}

/** Every row of the tenant whose MAC does not hold (for `akm audit verify`). Needs the key. */
export function findTamperedRows(db: Db, tenantId: string): TamperedRow[] {
  if (!slots.get(db)?.key) throw new Error('findTamperedRows: the connection holds no integrity key');
  return TABLES.flatMap((table) =>
    (
      sql(
        db,
        `SELECT q.${COVERED[table].label} AS row FROM ${table} q
          WHERE q.tenant_id = ? AND NOT ${intactSql(table, 'q')} ORDER BY 1`,
      ).all(tenantId) as Array<{ row: string | number }>
    ).map((r) => {
      const error = new TamperedRecordError(table, String(r.row));
      return { table, row: String(r.row), message: error.message };
    }),
  );
}
