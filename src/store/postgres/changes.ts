/**
 * Change notifications on PostgreSQL: triggers (made by migration 5) send a NOTIFY on the
 * channel `akm_changes`, with the schema's name as payload, when a transaction changes a row
 * that a cache of another process may hold: the rows that decide authentication and
 * authorization (COVERED in ../integrity.ts, with their link tables) and the tenants. Every
 * `akm serve` LISTENs on a connection of its own (session.ts) and drops its verify cache when
 * one arrives. PostgreSQL delivers a notification only when its transaction commits, and
 * several with the same payload in one transaction as one.
 *
 * Changes made with plain SQL behind akm's back notify too: the triggers do not care who writes.
 * A key's lastUsedAt stamp (a batch a second per server) does not: it changes nothing a cache
 * decides with, and would otherwise empty every cache every second.
 */
import { COVERED, COVERED_TABLES, type CoveredTable } from '../integrity.js';

export const CHANGES_CHANNEL = 'akm_changes';

/** Columns of `keys` that record use, not decisions: an update of only these notifies nobody. */
export const BOOKKEEPING_KEY_COLUMNS = ['last_used_at'];

/** The tables whose changes notify: every covered table, its link tables, and the tenants. */
export function watchedTables(): string[] {
  const links = COVERED_TABLES.flatMap((table) => {
    const spec: CoveredTable = COVERED[table];
    return Object.values(spec.sets).map((set) => set.table);
  });
  return ['tenants', ...COVERED_TABLES, ...links];
}

/** The DDL of the triggers. Run again by any migration that adds a watched table. */
export function changeTriggers(): string {
  const ignored = BOOKKEEPING_KEY_COLUMNS.map((c) => ` - '${c}'`).join('');
  const functions = `
    CREATE OR REPLACE FUNCTION akm_changed() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('${CHANGES_CHANNEL}', TG_TABLE_SCHEMA);
      RETURN NULL;
    END $$;
    CREATE OR REPLACE FUNCTION akm_changed_key() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF (to_jsonb(OLD)${ignored}) IS DISTINCT FROM (to_jsonb(NEW)${ignored}) THEN
        PERFORM pg_notify('${CHANGES_CHANNEL}', TG_TABLE_SCHEMA);
      END IF;
      RETURN NULL;
    END $$;`;
  const triggers = watchedTables().map((table) => {
    // Row by row for keys, to tell a real change from a lastUsedAt stamp; once per statement elsewhere.
    const events = table === 'keys' ? 'INSERT OR DELETE OR TRUNCATE' : 'INSERT OR UPDATE OR DELETE OR TRUNCATE';
    const statement = `
    DROP TRIGGER IF EXISTS akm_${table}_changed ON ${table};
    CREATE TRIGGER akm_${table}_changed AFTER ${events} ON ${table}
      FOR EACH STATEMENT EXECUTE FUNCTION akm_changed();`;
    if (table !== 'keys') return statement;
    return `${statement}
    DROP TRIGGER IF EXISTS akm_keys_updated ON keys;
    CREATE TRIGGER akm_keys_updated AFTER UPDATE ON keys FOR EACH ROW EXECUTE FUNCTION akm_changed_key();`;
  });
  return functions + triggers.join('');
}
