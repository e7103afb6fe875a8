/** Real SQLite stores in temp folders, for the service and end-to-end layers. */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MasterKeyOptions } from '../../src/crypto/masterKey.js';
import { deriveKeys } from '../../src/crypto/keys.js';
import { ensureStoreId, initTenant, META_STORE_ID, useKeys } from '../../src/service/local/bootstrap.js';
import { getMeta } from '../../src/store/meta.js';
import { LocalService } from '../../src/service/local/service.js';
import { openDatabase, type Db } from '../../src/store/open.js';

export interface TempStore {
  dir: string;
  path: string;
  masterKey: string;
  masterKeyOptions: MasterKeyOptions;
  admin: string;
  tenantId: string;
  open(now?: () => Date): LocalService;
  /**
   * A connection as another akm process holds it (keys loaded, integrity checks armed): writes
   * through the store layer on it are sealed like akm's own. The caller closes it.
   */
  connection(): Db;
  /** another tenant in the same store (admin admin@<id>.test), opened as a service */
  addTenant(tenantId: string): LocalService;
  cleanup(): void;
}

const noKeychain = () => {
  throw new Error('tests of the service layer pass the master key in AKM_MASTER_KEY');
};

/** A fresh store with tenant "acme" and admin admin@acme.test, keyed by a random master key. */
export function tempStore(prefix = 'akm-test-'): TempStore {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const path = join(dir, 'akm.db');
  const masterKey = randomBytes(32).toString('base64');
  const masterKeyOptions: MasterKeyOptions = { env: { AKM_MASTER_KEY: masterKey }, keychain: noKeychain };
  const db = openDatabase(path, { create: true });
  const storeId = ensureStoreId(db);
  initTenant(db, storeId, deriveKeys(Buffer.from(masterKey, 'base64')), {
    tenantId: 'acme',
    tenantName: 'Acme',
    adminEmail: 'admin@acme.test',
    adminName: 'Admin',
    now: new Date(),
    source: 'test',
  });
  db.close();
  return {
    dir,
    path,
    masterKey,
    masterKeyOptions,
    admin: 'admin@acme.test',
    tenantId: 'acme',
    open: (now) => LocalService.open({ storePath: path, masterKey: masterKeyOptions, now, source: 'test' }),
    connection: () => {
      const connection = openDatabase(path);
      useKeys(connection, deriveKeys(Buffer.from(masterKey, 'base64')));
      return connection;
    },
    addTenant: (tenantId) => {
      const db = openDatabase(path);
      try {
        initTenant(db, getMeta(db, META_STORE_ID)!, deriveKeys(Buffer.from(masterKey, 'base64')), {
          tenantId,
          tenantName: tenantId,
          adminEmail: `admin@${tenantId}.test`,
          adminName: '',
          now: new Date(),
          source: 'test',
        });
      } finally {
        db.close();
      }
      return LocalService.open({ storePath: path, tenantId, masterKey: masterKeyOptions, source: 'test' });
    },
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
