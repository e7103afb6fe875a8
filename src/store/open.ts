/** Opening the store a `--store` value names: a PostgreSQL URL, else a SQLite file path. */
import { isPostgresStore } from '../core/storeUrl.js';
import { openSqliteStore } from './sqlite/store.js';
import type { OpenStoreOptions, Store } from './types.js';

export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (isPostgresStore(location)) {
    // Loaded on demand: the driver and this engine cost a SQLite run nothing.
    const { openPostgresStore } = await import('./postgres/store.js');
    return openPostgresStore(location, options);
  }
  return openSqliteStore(location, options);
}
