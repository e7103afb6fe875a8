/**
 * Is the store ready to serve (`GET /readyz`)? It answers a query, and its schema is the one
 * this akm knows: another process may have migrated it further (an upgraded replica beside an
 * older one), or a backup of an older version may have been put back under a running server.
 */
import { UnavailableError } from '../core/errors.js';
import type { Store } from './types.js';

export async function checkReady(store: Store, latest: number): Promise<void> {
  const row = await store.read((q) => q.get<{ version: number }>(q.dialect.schemaVersion));
  const version = Number(row?.version ?? 0);
  if (version === latest) return;
  if (version > latest)
    throw new UnavailableError(
      `the store ${store.location} has schema version ${version}, newer than this akm understands (${latest})`,
      { hint: 'upgrade akm on this server too', code: 'store_too_new' },
    );
  throw new UnavailableError(`the store ${store.location} has schema version ${version}; this akm needs ${latest}`, {
    hint: 'restart the server: it migrates the store when it opens it',
    code: 'store_outdated',
  });
}
