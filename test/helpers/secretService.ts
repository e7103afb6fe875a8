/** Reading what akm left in a real SQLite store and the real Secret Service, from outside akm. */
import { spawnSync } from 'node:child_process';
import Database from 'better-sqlite3';

/** The store id, which names the keychain entry of the store's master key. */
export function storeIdOf(path: string): string {
  const db = new Database(path, { readonly: true });
  try {
    return (db.prepare("SELECT value FROM meta WHERE key = 'store_id'").get() as { value: string }).value;
  } finally {
    db.close();
  }
}

/** The Secret Service entry akm keeps under `account` ("" when there is none). */
export function secretToolLookup(account: string): string {
  return spawnSync('secret-tool', ['lookup', 'service', 'akm', 'username', account], {
    encoding: 'utf8',
  }).stdout.trim();
}
