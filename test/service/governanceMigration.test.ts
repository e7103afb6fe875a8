/**
 * Migration 5 on PostgreSQL with data (SQLite's is in migrations.test.ts): a store taken back
 * to version 4 by hand, with keys created and rotated by akm, upgrades to dates for each secret
 * from the audit trail, empty descriptions, the policies table and the sort indexes.
 */
import { LocalService } from '../../src/service/local/service.js';
import { POSTGRES_LATEST_VERSION } from '../../src/store/postgres/schema.js';
import { postgresOnly } from '../helpers/engines.js';
import { Clock, DAY, keyInput } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

postgresOnly('a version 4 store gets each secret dated by its last rotation in the audit trail', async (t) => {
  const store = await tempStore('postgres');
  t.teardown(store.cleanup);
  const clock = new Clock('2026-01-02T03:04:05.000Z');
  const admin = await store.open(clock.now);
  const rotated = await admin.createKey(keyInput({ name: 'rotated' }));
  const kept = await admin.createKey(keyInput({ name: 'kept' }));
  clock.advance(DAY);
  await admin.rotateKey(rotated.accessKeyId, 0);
  clock.advance(DAY);
  await admin.rotateKey(rotated.accessKeyId, 0);
  await admin.close();

  const raw = await store.raw();
  // What migration 7 (who uses a key) added goes too; its integrity triggers go with the columns
  // they name, and the migration makes them again.
  await raw.run('DROP TABLE webhook_deliveries, webhooks, canary_alarms, grace_ends, key_sources');
  await raw.run(
    `ALTER TABLE keys DROP COLUMN canary CASCADE, DROP COLUMN inactive_until CASCADE,
       DROP COLUMN secret_generation, DROP COLUMN rotated_by,
       DROP COLUMN grace_quiet_ms CASCADE, DROP COLUMN previous_quiet_until CASCADE`,
  );
  await raw.run('DROP TABLE policies');
  await raw.run('DROP INDEX keys_sort_expiry, keys_sort_last_use');
  await raw.run('ALTER TABLE keys DROP COLUMN description, DROP COLUMN secret_created_at');
  await raw.run('UPDATE akm_schema SET version = 4');
  await raw.close();

  const upgraded = await LocalService.open({
    store: store.location,
    masterKey: store.masterKeyOptions,
    source: 'test',
  });
  t.teardown(() => upgraded.close());
  const again = await store.raw();
  t.is((await again.get<{ version: number }>('SELECT version FROM akm_schema'))!.version, POSTGRES_LATEST_VERSION);
  await again.close();
  t.is((await upgraded.showKey(rotated.accessKeyId)).secretCreatedAt, '2026-01-04T03:04:05.000Z');
  t.is((await upgraded.showKey(kept.accessKeyId)).secretCreatedAt, kept.createdAt);
  t.is((await upgraded.showKey(kept.accessKeyId)).description, '');
  t.is((await upgraded.getPolicy()).enforceOn, null);
  t.true((await upgraded.verifyAudit()).ok);
});
