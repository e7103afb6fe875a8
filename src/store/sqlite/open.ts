/**
 * Opening the SQLite store: owner-only files, pragmas, migrations, and a refusal to touch a
 * file that is not ours or is newer than this akm.
 */
import Database from 'better-sqlite3';
import { createRequire } from 'node:module';
import { closeSync, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname } from 'node:path';
import { UnavailableError } from '../../core/errors.js';
import type { OpenStoreOptions } from '../types.js';
import { installIntegrityFunctions, sealingPendingSync } from './integrity.js';
import { APPLICATION_ID, LATEST_VERSION, migrations } from './schema.js';
import { lockedTransaction, sql, waitForLocks } from './statements.js';

export type Db = Database.Database;

export type OpenOptions = Pick<OpenStoreOptions, 'create' | 'busyTimeoutMs' | 'readonly' | 'onLockWait'>;

/** How long a write waits in silence before `onLockWait` is told. */
const QUIET_WAIT_MS = 1000;

export function openDatabase(path: string, options: OpenOptions = {}): Db {
  if (!existsSync(path)) {
    if (!options.create) {
      throw new UnavailableError(`no akm store at ${path}`, {
        hint: 'run `akm init` to create one, or pass --store',
        code: 'store_missing',
      });
    }
    createOwnerOnlyFile(path);
  } else if (statSync(path).isDirectory()) {
    throw new UnavailableError(`${path} is a directory, not an akm store`, { code: 'store_invalid' });
  } else if (!options.create && statSync(path).size === 0) {
    // An empty file is what `touch` leaves: not a store yet, and not ours to turn into one.
    throw new UnavailableError(`no akm store at ${path} (the file is empty)`, {
      hint: 'run `akm init` to create one, or pass --store',
      code: 'store_missing',
    });
  } else if (!looksLikeSqlite(path)) {
    throw new UnavailableError(`${path} is not an akm store (not a SQLite database)`, { code: 'store_invalid' });
  }

  const busyTimeoutMs = options.busyTimeoutMs ?? 15_000;
  let db: Db;
  try {
    db = new Database(path, {
      readonly: options.readonly === true,
      timeout: options.onLockWait ? Math.min(QUIET_WAIT_MS, busyTimeoutMs) : busyTimeoutMs,
      nativeBinding: nativeBinding(),
    });
  } catch (error) {
    throw sqliteError(error, path);
  }
  if (options.onLockWait)
    waitForLocks(db, { quietMs: QUIET_WAIT_MS, totalMs: busyTimeoutMs, onWait: options.onLockWait });
  try {
    // Read the header before any pragma that writes, so a foreign or newer file stays untouched.
    const version = db.pragma('user_version', { simple: true }) as number;
    const appId = db.pragma('application_id', { simple: true }) as number;
    const hasTables =
      (db.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE type = 'table'").get() as { n: number }).n > 0;
    if (appId !== APPLICATION_ID && (appId !== 0 || hasTables)) {
      throw new UnavailableError(`${path} is a SQLite database but not an akm store`, { code: 'store_foreign' });
    }
    if (version > LATEST_VERSION) {
      throw new UnavailableError(
        `the store ${path} has schema version ${version}, newer than this akm understands (${LATEST_VERSION})`,
        { hint: 'upgrade akm; the store was left untouched', code: 'store_too_new' },
      );
    }
    if (options.readonly) {
      // An older schema needs an upgrade, which is a write: open for writing this once. So does
      // what the first run with the master key finishes after one (see useKeys).
      if (version < LATEST_VERSION || sealingPendingSync(db) || oldChainPresent(db)) {
        db.close();
        return openDatabase(path, { ...options, readonly: false });
      }
      db.pragma('foreign_keys = ON');
      installIntegrityFunctions(db);
      return db;
    }
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = FULL');
    db.pragma('foreign_keys = ON');
    migrate(db, version);
    installIntegrityFunctions(db);
    return db;
  } catch (error) {
    db.close();
    throw sqliteError(error, path);
  }
}

/**
 * The single audit chain of schemas 2 and 3, kept by migration 4 until the first run with the
 * key (auditUpgrade.ts).
 */
function oldChainPresent(db: Db): boolean {
  return !!sql(db, "SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'audit_v2'").get();
}

/**
 * A store other users of the machine can open: a warning, not a refusal (the secrets in it stay
 * sealed, and the integrity MACs catch changes), with the fix. Null when only its owner can.
 */
export function storeExposure(path: string): { message: string; hint: string } | null {
  if (process.platform === 'win32') return null;
  let mode: number;
  try {
    mode = statSync(path).mode;
  } catch {
    return null;
  }
  if ((mode & 0o007) === 0) return null;
  return {
    message: `the store ${path} is open to other users of this machine (mode ${(mode & 0o777).toString(8)})`,
    hint: `chmod 600 ${path}`,
  };
}

const SQLITE_HEADER = Buffer.from('SQLite format 3\0', 'latin1');

/**
 * SQLite reads a file shorter than one page as an empty database and would then write a new
 * database over it: a short text file passed as --store would be destroyed. So a non-empty file
 * must start with the SQLite header. (An empty file is an interrupted `akm init`, or a store
 * whose first commit still sits in its -wal file.)
 */
function looksLikeSqlite(path: string): boolean {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return true; // unreadable: let SQLite report it (exit 6, store_unwritable)
  }
  try {
    const head = Buffer.alloc(SQLITE_HEADER.length);
    const read = readSync(fd, head, 0, head.length, 0);
    return read === 0 || (read === head.length && head.equals(SQLITE_HEADER));
  } finally {
    closeSync(fd);
  }
}

let addon: string | undefined;
/**
 * The compiled addon's path, found once. better-sqlite3 would otherwise search a dozen
 * candidate paths through the `bindings` package on every start.
 */
function nativeBinding(): string {
  addon ??= createRequire(import.meta.url).resolve('better-sqlite3/build/Release/better_sqlite3.node');
  return addon;
}

function createOwnerOnlyFile(path: string): void {
  const folder = dirname(path);
  try {
    if (!existsSync(folder)) mkdirSync(folder, { recursive: true, mode: 0o700 });
    closeSync(openSync(path, 'wx', 0o600));
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UnavailableError(`cannot create the store at ${path} (${code ?? 'error'})`, {
      hint:
        code === 'EACCES' || code === 'EROFS' ? 'the folder is not writable; choose another with --store' : undefined,
      code: 'store_unwritable',
    });
  }
}

function migrate(db: Db, from: number): void {
  if (from === LATEST_VERSION) return;
  lockedTransaction(db, () => {
    // Re-read inside the lock: another process may have migrated meanwhile.
    const current = db.pragma('user_version', { simple: true }) as number;
    for (const step of migrations) {
      if (step.version > current) step.up(db);
    }
    db.pragma(`application_id = ${APPLICATION_ID}`);
    db.pragma(`user_version = ${LATEST_VERSION}`);
  });
}

/** Map SQLite's failures to one clear line with exit code 6. */
export function sqliteError(error: unknown, path: string): unknown {
  if (!(error instanceof Error) || error instanceof UnavailableError) return error;
  const code = (error as { code?: string }).code ?? '';
  if (code === 'SQLITE_NOTADB')
    return new UnavailableError(`${path} is not an akm store (not a SQLite database)`, { code: 'store_invalid' });
  if (code === 'SQLITE_CORRUPT')
    return new UnavailableError(`the store ${path} is corrupt`, {
      hint: 'restore it from a backup',
      code: 'store_corrupt',
    });
  if (code === 'SQLITE_BUSY' || code === 'SQLITE_LOCKED') {
    return new UnavailableError(`the store ${path} is locked by another process`, {
      hint: 'try again in a moment',
      code: 'store_locked',
    });
  }
  if (code === 'SQLITE_READONLY_DIRECTORY') {
    return new UnavailableError(`cannot open the store ${path}: its folder is not writable`, {
      hint: 'SQLite keeps a small -shm file beside the store, even to read it: make the folder writable',
      code: 'store_unwritable',
    });
  }
  if (
    code === 'SQLITE_READONLY' ||
    code === 'SQLITE_CANTOPEN' ||
    code === 'SQLITE_IOERR' ||
    code.startsWith('SQLITE_READONLY')
  ) {
    return new UnavailableError(`cannot write to the store ${path} (${code})`, {
      hint: 'check that the file and its folder are writable',
      code: 'store_unwritable',
    });
  }
  if (code === 'SQLITE_FULL') return new UnavailableError(`the disk holding ${path} is full`, { code: 'store_full' });
  return error;
}
