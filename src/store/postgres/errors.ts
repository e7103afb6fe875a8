/**
 * PostgreSQL's failures as akm's exit-6 errors: one line naming the store (without its
 * password) and what went wrong, and a hint. Errors of akm's own (and constraint violations,
 * which the service turns into conflicts) pass through unchanged.
 */
import { AkmError, UnavailableError } from '../../core/errors.js';

const UNREACHABLE_SYSTEM = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'ENOENT', // a Unix socket that is not there
]);

function unreachable(where: string, why: string): UnavailableError {
  return new UnavailableError(`cannot reach the PostgreSQL store ${where} (${why})`, {
    hint: 'check that PostgreSQL is running and that this host may connect to it',
    code: 'store_unreachable',
  });
}

/** `where`: the store URL without its password. */
export function postgresError(error: unknown, where: string): unknown {
  if (!(error instanceof Error) || error instanceof AkmError) return error;
  const code = (error as { code?: unknown }).code;
  const sqlState = typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : '';
  if (typeof code === 'string' && UNREACHABLE_SYSTEM.has(code)) return unreachable(where, code);
  if (/timeout exceeded when trying to connect|connection timeout/i.test(error.message))
    return unreachable(where, 'timed out');
  if (/Connection terminated/i.test(error.message)) return unreachable(where, 'connection lost');
  if (/client password must be a string|password must be a string/i.test(error.message))
    return new UnavailableError(`PostgreSQL asks for a password for ${where} and none was given`, {
      hint: 'put it in PGPASSWORD or ~/.pgpass, or in a URL passed with --store-env VAR',
      code: 'store_auth_failed',
    });
  if (/does not support SSL/i.test(error.message))
    return unreachable(where, 'the server does not accept SSL; use sslmode=disable');
  if (sqlState === '28P01' || sqlState === '28000')
    return new UnavailableError(
      `PostgreSQL refused the login to ${where} (${sqlState === '28P01' ? 'wrong password' : 'not allowed'})`,
      {
        hint: 'check the user and its password (URL, PGPASSWORD or ~/.pgpass) and pg_hba.conf',
        code: 'store_auth_failed',
      },
    );
  if (sqlState === '3D000')
    return new UnavailableError(`the database of ${where} does not exist`, {
      hint: 'create it (createdb), then run akm init --store with its URL',
      code: 'store_missing',
    });
  if (sqlState.startsWith('08') || sqlState.startsWith('57P') || sqlState === '53300')
    return unreachable(where, sqlState === '53300' ? 'too many connections' : `server unavailable, ${sqlState}`);
  if (sqlState === '55P03' || sqlState === '40P01' || sqlState === '40001')
    return new UnavailableError(`the store ${where} is busy with another change`, {
      hint: 'try again in a moment',
      code: 'store_locked',
    });
  if (sqlState === '42501' || sqlState === '25006')
    return new UnavailableError(`the PostgreSQL user may not change the store ${where} (${sqlState})`, {
      hint: 'grant it the privileges on the database, or connect to the primary',
      code: 'store_unwritable',
    });
  if (sqlState === '53100') return new UnavailableError(`the disk of ${where} is full`, { code: 'store_full' });
  if (sqlState.startsWith('XX'))
    return new UnavailableError(`the store ${where} reports an internal error (${sqlState})`, {
      hint: 'see the PostgreSQL server log',
      code: 'store_corrupt',
    });
  return error;
}

/** Failed in a way that a second attempt of the whole transaction can fix. */
export function isRetryable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === '40P01' || code === '40001';
}

/** The connection itself is gone (the server restarted or dropped it): a new one may work. */
export function connectionLost(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  if (code === 'ECONNRESET' || code === 'EPIPE' || code === '57P01' || code === '57P02') return true;
  if (typeof code === 'string' && code.startsWith('08')) return true;
  return error instanceof Error && /Connection terminated|not queryable|ended/i.test(error.message);
}
