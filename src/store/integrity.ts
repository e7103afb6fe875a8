/**
 * Integrity at rest for the rows that decide authentication and authorization: keys (with
 * their role and group assignments), roles (with their permissions), groups (with their roles
 * and members) and users. Each such row carries a MAC under a key derived from the master
 * key, so someone who can write the database but does not hold the master key cannot flip a
 * status, move an expiry, add a role or a permission, or join Administrators unseen.
 *
 * The MAC covers the row's own columns and the sets of link rows that belong to it, so
 * deleting a link shows as well as adding one. Once a store holds the key
 * (`Store.attachIntegrity`), every write transaction checks the MAC of each covered row it
 * changes as the row was before, and reseals the row after: a change to a row that was already
 * altered is refused, so akm never "launders" tampering by resealing it. Each engine does this
 * its own way (sqlite/integrity.ts: SQL functions and temporary triggers on the connection;
 * postgres/integrity.ts: triggers note what changed, the MACs are checked and written before
 * COMMIT). A process without the key changes no MAC: what it writes shows as tampered.
 *
 * Reads check too: the store's lookups select `intactSql(…)` beside each row and refuse a row
 * whose MAC does not hold (TamperedRecordError, exit 6). Before the key is loaded the check
 * yields NULL (unknown), which callers treat as unchecked: every decision path loads the key
 * first.
 *
 * The previous secret of a rotation has a MAC of its own (bound to the current secret), so the
 * write that erases it once its grace has ended needs no key (see `eraseEndedGraces`).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { AkmError, ExitCode } from '../core/errors.js';
import { printable } from '../core/validate.js';
import { getMeta } from './meta.js';
import type { Dialect, Queryable } from './types.js';

export interface LinkedSet {
  /** the link table, its column naming the covered row, and its column naming the member */
  table: string;
  parent: string;
  member: string;
}

export interface CoveredTable {
  /** the column that names a row in messages */
  label: string;
  /**
   * The columns the MAC covers: adding one is this one line (and, on PostgreSQL, a migration
   * that makes the triggers again: postgres/integrity.ts). A NULL value is left out of the
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
      // Whether the key can ever authenticate, and until when a brownout refuses it.
      'canary',
      'inactive_until',
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
export const COVERED_TABLES = Object.keys(COVERED) as CoveredName[];

/**
 * The previous secret of a rotation and its end (the cap, and for an automatic grace the quiet
 * period and when it runs out), bound to the secret that replaced it.
 */
export const GRACE_COLUMNS = [
  'secret_digest',
  'previous_sealed',
  'previous_digest',
  'previous_valid_until',
  'grace_quiet_ms',
  'previous_quiet_until',
];

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

/**
 * One row to check in a query: the table, its alias, and (for a row an outer join may leave
 * out) the condition under which it is there.
 */
export type IntactPart = readonly [table: CoveredName, alias: string, present?: string];

/**
 * An expression that is 1 when every row named is intact (for a key, its grace part too), 0
 * when one is not, and NULL while the store does not hold the key. Select it as a column and
 * pass the row through `checked`.
 */
export function intactSql(dialect: Dialect, ...parts: IntactPart[]): string {
  const key = `${dialect.engine} ${JSON.stringify(parts)}`;
  let text = generated.get(key);
  if (text === undefined) generated.set(key, (text = dialect.intact(parts)));
  return text;
}
const generated = new Map<string, string>();

// ---- the MAC itself, the same for both engines

/** A value as an engine hands it over: SQLite's own types, or (PostgreSQL) parsed JSON. */
export type MacValue = string | number | bigint | Buffer | null | readonly unknown[];

/** kind, id, then name/value pairs; NULL values are left out (see CoveredTable.columns). */
function canonical(args: readonly MacValue[]): string {
  const parts: string[] = [String(args[0]), tagged(args[1] ?? null)];
  for (let i = 2; i + 1 < args.length; i += 2) {
    const value = args[i + 1] ?? null;
    if (value !== null) parts.push(String(args[i]), tagged(value));
  }
  return JSON.stringify(parts);
}

function tagged(value: MacValue): string {
  if (Buffer.isBuffer(value)) return `b:${value.toString('hex')}`;
  if (typeof value === 'string') return `s:${value}`;
  if (Array.isArray(value)) return `j:${JSON.stringify(value)}`;
  return `n:${String(value)}`;
}

export function rowMac(key: Buffer, args: readonly MacValue[]): Buffer {
  return createHmac('sha256', key)
    .update(`akm row v1\n${canonical(args)}`)
    .digest();
}

export function macHolds(key: Buffer, stored: unknown, args: readonly MacValue[]): boolean {
  const expected = rowMac(key, args);
  return Buffer.isBuffer(stored) && stored.length === expected.length && timingSafeEqual(stored, expected);
}

// ---- reading

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
export async function findTamperedRows(q: Queryable, tenantId: string): Promise<TamperedRow[]> {
  return (await checkRows(q, tenantId)).tampered;
}

/**
 * Every covered row of one tenant, or of every tenant (null), checked: how many, and those whose
 * MAC does not hold. Needs the key.
 */
export async function checkRows(
  q: Queryable,
  tenantId: string | null,
): Promise<{ rows: number; tampered: TamperedRow[] }> {
  const tampered: TamperedRow[] = [];
  let count = 0;
  for (const table of COVERED_TABLES) {
    const rows = await q.all<{ row: string | number; intact: number | null }>(
      `SELECT t.${COVERED[table].label} AS row, ${intactSql(q.dialect, [table, 't'])} AS intact
         FROM ${table} t WHERE CAST(@tenantId AS TEXT) IS NULL OR t.tenant_id = @tenantId ORDER BY 1`,
      { tenantId },
    );
    count += rows.length;
    for (const r of rows) {
      if (r.intact === null) throw new Error('checkRows: the store holds no integrity key');
      if (r.intact === 0) {
        const error = new TamperedRecordError(table, String(r.row));
        tampered.push({ table, row: String(r.row), message: error.message });
      }
    }
  }
  return { rows: count, tampered };
}

// ---- what migrations leave for the first run with the key

/** Set by migration 4 on a store with rows: they are sealed by the first run with the key (trust on first use). */
export const META_INTEGRITY_PENDING = 'integrity_pending';

export async function sealingPending(q: Queryable): Promise<boolean> {
  return (await getMeta(q, META_INTEGRITY_PENDING)) !== undefined;
}

/** A grace is over once its cap has passed or, for an automatic one, its quiet period has run out. */
const ENDED = `((k.previous_valid_until IS NOT NULL AND k.previous_valid_until <= @now)
    OR (k.previous_quiet_until IS NOT NULL AND k.previous_quiet_until <= @now))
   AND (CAST(@tenantId AS TEXT) IS NULL OR k.tenant_id = @tenantId)`;

/**
 * Every write erases the previous secrets whose grace period has ended (sealed value, digest
 * and end), so none stays stored past the next write after its end. That needs no key: the
 * grace part has a MAC of its own, and erasing it only takes access away. `tenantId` limits it
 * to one tenant's keys (PostgreSQL: a write locks no other tenant's rows); null: every tenant.
 *
 * The end of an automatic grace is noted first (grace_ends: which key, when, and why: `quiet`
 * or `cap`), for the service to audit and announce in a transaction that holds the keys
 * (service/local/lapses.ts). A fixed grace ends when its rotation's own record says it does.
 */
export async function eraseEndedGraces(q: Queryable, now: Date, tenantId: string | null): Promise<number> {
  const params = { now: now.toISOString(), tenantId };
  await q.run(
    `INSERT INTO grace_ends (key_id, tenant_id, reason, ended_at)
     SELECT k.id, k.tenant_id,
            CASE WHEN k.previous_quiet_until IS NOT NULL AND k.previous_quiet_until < k.previous_valid_until
                 THEN 'quiet' ELSE 'cap' END,
            CASE WHEN k.previous_quiet_until IS NOT NULL AND k.previous_quiet_until < k.previous_valid_until
                 THEN k.previous_quiet_until ELSE k.previous_valid_until END
       FROM keys k WHERE k.grace_quiet_ms IS NOT NULL AND ${ENDED}
     ON CONFLICT DO NOTHING`,
    params,
  );
  return q.run(
    `UPDATE keys
        SET previous_sealed = NULL, previous_digest = NULL, previous_valid_until = NULL, grace_mac = NULL,
            grace_quiet_ms = NULL, previous_quiet_until = NULL
      WHERE id IN (SELECT k.id FROM keys k WHERE ${ENDED})`,
    params,
  );
}
