/**
 * Commands that akm prints for the person to run next (in hints and after `init`) must work
 * as printed. A run that reached its store or tenant through flags needs the same flags next
 * time; environment variables the shell still has, and the profile is read again.
 */
import { displayStore } from '../core/storeUrl.js';
import type { GlobalOptions } from './settings.js';

/** A word as a POSIX shell reads it back: bare when safe, else in single quotes. */
export function shellQuote(word: string): string {
  return /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, `'\\''`)}'`;
}

/**
 * `akm` plus the options that chose this run's store and tenant as flags, e.g. `akm --tenant
 * other`. Not --as: a refused --as is often what the hint is about, and the operator can run it.
 */
export function invocation(global: GlobalOptions): string {
  const flags: Array<[string, string | undefined]> = [
    ['--profile', global.profile],
    // Never a password: a PostgreSQL URL is repeated without it (PGPASSWORD or ~/.pgpass supply it).
    ['--store', global.store === undefined ? undefined : displayStore(global.store)],
    ['--store-env', global.storeEnv],
    ['--tenant', global.tenant],
    ['--master-key-file', global.masterKeyFile],
  ];
  return ['akm', ...flags.filter(([, v]) => v !== undefined).map(([flag, v]) => `${flag} ${shellQuote(v!)}`)].join(' ');
}

/** Every "akm <command>" in a text, with `akm` replaced by the invocation that reaches the same store and tenant. */
export function runnable(text: string, prefix: string, commands: string[]): string {
  if (prefix === 'akm' || commands.length === 0) return text;
  const pattern = new RegExp(`\\bakm (?=(?:${commands.join('|')})\\b)`, 'g');
  return text.replace(pattern, `${prefix} `);
}
