/**
 * Uses per secret on both engines, as the server writes them: the last 20 distinct sources per
 * secret (the most recent win), kept apart by secret across rotations, and the per-key accessor
 * that reports ("last used, and from where") read in one query.
 */
import { SOURCES_KEPT } from '../../src/core/usage.js';
import { reading } from '../../src/service/local/context.js';
import { lastUseSources } from '../../src/service/local/usage.js';
import { perEngine } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { clockedStore, usageRig } from '../helpers/usage.js';

perEngine(
  'at most 20 sources per secret, the most recent; a rotation starts the new secret afresh',
  async (t, engine) => {
    const { store, clock, admin } = await clockedStore(t, engine);
    const key = await admin.createKey(keyInput({ name: 'busy' }));
    const rig = await usageRig(t, store, clock.now);
    for (let i = 0; i < 30; i++) {
      clock.advance(1000);
      t.true((await rig.verify(key, { source: { service: `svc-${i}` } })).valid);
      if (i % 7 === 0) await rig.flush();
    }
    await rig.flush();
    let shown = await admin.showKey(key.accessKeyId);
    const current = shown.secrets[0]!;
    t.is(current.sources.length, SOURCES_KEPT);
    t.deepEqual(
      current.sources.map((s) => s.service),
      Array.from({ length: 20 }, (_, i) => `svc-${29 - i}`),
    );
    t.is(current.lastUsedAt, clock.now().toISOString());

    const rotated = await admin.rotateKey(key.accessKeyId, 60_000);
    t.true(
      (await rig.verify({ accessKeyId: key.accessKeyId, secretKey: rotated.secretKey }, { source: { service: 'new' } }))
        .valid,
    );
    await rig.flush();
    shown = await admin.showKey(key.accessKeyId);
    t.deepEqual(
      shown.secrets.map((s) => [s.version, s.sources.length]),
      [
        ['current', 1],
        ['previous', 20],
      ],
    );
    const latest = await reading(admin.ctx, (s) => lastUseSources(s, [key.accessKeyId, 'AKMNOSUCHKEY']));
    t.like(latest.get(key.accessKeyId), { service: 'new', count: 1 });
    t.is(latest.size, 1);
    // The credential report says where the current secret was last used from.
    const report = await admin.reportKeys({});
    t.is(report.items.find((r) => r.accessKeyId === key.accessKeyId)?.lastUsedFrom, 'new (10.1.1.1)');
  },
);
