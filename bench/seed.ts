/**
 * Filling a store fast for benchmarks: one transaction, sealed secrets made with the real
 * crypto, rows written through the store layer (no SQL here).
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAccessKeyId, generateSecretKey } from '../src/core/credentials.js';
import { deriveKeys } from '../src/crypto/keys.js';
import { sealSecret, secretDigest } from '../src/crypto/seal.js';
import { ensureStoreId, initTenant } from '../src/service/local/bootstrap.js';
import { addKeyRole } from '../src/store/keyAssignments.js';
import { insertKey } from '../src/store/keys.js';
import { openStore } from '../src/store/open.js';
import { findRole } from '../src/store/people.js';
import { openDatabase } from '../src/store/sqlite/open.js';

export interface SeededStore {
  dir: string;
  path: string;
  masterKey: string;
  /** a few real credentials from the seeded set, for verification benchmarks */
  samples: Array<{ accessKeyId: string; secretKey: string }>;
}

export async function seedStore(count: number, tenantId = 'bench'): Promise<SeededStore> {
  const dir = mkdtempSync(join(tmpdir(), 'akm-bench-'));
  const path = join(dir, 'akm.db');
  const masterKey = randomBytes(32).toString('base64');
  const keys = deriveKeys(Buffer.from(masterKey, 'base64'));
  const store = await openStore(path, { create: true });
  const storeId = await ensureStoreId(store);
  await initTenant(store, storeId, keys, {
    tenantId,
    tenantName: 'Bench',
    adminEmail: 'admin@bench.test',
    adminName: '',
    now: new Date(),
    source: 'bench',
  });
  const role = (await store.read((q) => findRole(q, tenantId, 'ReadOnly')))!.id;
  const samples: SeededStore['samples'] = [];
  const start = Date.now() - count * 1000;
  await store.write(tenantId, async (tx) => {
    for (let i = 0; i < count; i++) {
      const id = generateAccessKeyId();
      const secret = generateSecretKey();
      if (i % Math.max(1, Math.floor(count / 100)) === 0) samples.push({ accessKeyId: id, secretKey: secret });
      const at = new Date(start + i * 1000).toISOString();
      await insertKey(tx, {
        id,
        tenant_id: tenantId,
        name: `key-${i}`,
        description: i % 5 === 0 ? `bench key ${i}, for the report` : '',
        type: 'access',
        owner_id: null,
        secret_sealed: sealSecret(keys, tenantId, id, secret),
        secret_digest: secretDigest(keys, tenantId, id, secret),
        expires_at: i % 3 === 0 ? null : new Date(Date.now() + (30 + (i % 300)) * 86_400_000).toISOString(),
        canary: null,
        at,
        by: 'admin@bench.test',
      });
      if (i % 2 === 0) await addKeyRole(tx, id, role);
    }
  });
  await store.close();
  // Start every run from a checkpointed file, as a store that has been at rest.
  const db = openDatabase(path);
  db.pragma('wal_checkpoint(TRUNCATE)');
  db.close();
  return { dir, path, masterKey, samples };
}
