/**
 * The authorization rule against its reference model, on the local service: random tenants and
 * random (actor, operation, target) triples over every operation of AkmService. Each world is
 * seeded and each call made inside a transaction that is rolled back afterwards, so thousands
 * of cases run on one real SQLite file without a commit; a refusal is checked against a dump of
 * the tenant taken on the same connection.
 *   AKM_AUTHZ_WORLDS  worlds to generate (20 calls each; default 250 = 5,000 cases)
 */
import test from 'ava';
import { keyActor, operatorActor } from '../../src/service/local/actor.js';
import { LocalService } from '../../src/service/local/service.js';
import { getKey } from '../../src/store/keys.js';
import { CALLS_PER_WORLD, checkModel, runCase, type CaseEnv } from '../helpers/authzCases.js';
import { seedWorld } from '../helpers/authzWorld.js';
import { keyInput } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

const WORLDS = Number(process.env.AKM_AUTHZ_WORLDS) || 250;

test(`the local service decides as the reference model (${WORLDS * CALLS_PER_WORLD} cases)`, async (t) => {
  const store = tempStore('akm-authz-');
  const base = store.open();
  t.teardown(async () => {
    await base.close();
    store.cleanup();
  });
  const db = base.ctx.db;
  const foreign = await base.createKey(keyInput({ name: 'elsewhere', roles: ['KeyManager'] }));
  const run = { worlds: WORLDS, minimum: 5000, scaled: !!process.env.AKM_AUTHZ_WORLDS, shrink: true };
  const tally = await checkModel(t, 'authorization model, local', run, async (spec, cases, tally) => {
    db.exec('BEGIN IMMEDIATE');
    try {
      const now = new Date();
      const world = seedWorld(base.ctx, spec, now);
      const { ctx } = world;
      const env: CaseEnv = {
        db,
        tenantId: world.tenantId,
        now: () => now,
        withOperator: true,
        foreignKey: foreign.accessKeyId,
        secrets: world.secrets,
        serviceFor: (actor) =>
          LocalService.withActor(
            ctx,
            ctx.tenant,
            actor.keyId ? keyActor(db, getKey(db, ctx.tenant.id, actor.keyId)!) : operatorActor(db, ctx.tenant),
            'test',
          ),
      };
      for (const spec of cases) {
        db.exec('SAVEPOINT authz_case');
        try {
          tally.add(await runCase(env, spec));
        } finally {
          db.exec('ROLLBACK TO authz_case');
          db.exec('RELEASE authz_case');
        }
      }
    } finally {
      db.exec('ROLLBACK');
    }
  });
  for (const kind of ['done', 'denied', 'not found', 'conflict', 'usage'])
    t.true((tally.outcomes.get(kind) ?? 0) > 0, `no case ended "${kind}"`);
});
