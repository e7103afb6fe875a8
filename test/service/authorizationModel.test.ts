/**
 * The authorization rule against its reference model, on the local service: random tenants and
 * random (actor, operation, target) triples over every operation of AkmService. A refusal is
 * checked against a dump of the tenant taken on the same connection.
 *
 * On SQLite each world is seeded and each call made inside a transaction opened on the
 * connection and rolled back afterwards (the store's transactions become savepoints of it), so
 * thousands of cases run on one real file without a commit. On PostgreSQL every world is a new
 * tenant whose calls commit, as they do for real; fewer worlds run there.
 *   AKM_AUTHZ_WORLDS     worlds on SQLite (20 calls each; default 250 = 5,000 cases)
 *   AKM_AUTHZ_PG_WORLDS  worlds on PostgreSQL (default 25 = 500 cases)
 */
import { keyActor, operatorActor } from '../../src/service/local/actor.js';
import { LocalService } from '../../src/service/local/service.js';
import { getKey } from '../../src/store/keys.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import { CALLS_PER_WORLD, checkModel, runCase, type CaseEnv } from '../helpers/authzCases.js';
import { rolledBack, seedWorld } from '../helpers/authzWorld.js';
import { perEngine } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

const WORLDS = {
  sqlite: Number(process.env.AKM_AUTHZ_WORLDS) || 250,
  postgres: Number(process.env.AKM_AUTHZ_PG_WORLDS) || 25,
};
const scaled = { sqlite: !!process.env.AKM_AUTHZ_WORLDS, postgres: !!process.env.AKM_AUTHZ_PG_WORLDS };

perEngine(`the local service decides as the reference model`, async (t, engine) => {
  const store = await tempStore(engine, 'akm-authz-');
  const base = await store.open();
  t.teardown(async () => {
    await base.close();
    await store.cleanup();
  });
  const db = engine === 'sqlite' ? (base.ctx.store as SqliteStore).db : undefined;
  const foreign = await base.createKey(keyInput({ name: 'elsewhere', roles: ['KeyManager'] }));
  const worlds = WORLDS[engine];
  t.log(`${worlds * CALLS_PER_WORLD} cases`);
  const run = { worlds, minimum: worlds * CALLS_PER_WORLD, scaled: scaled[engine], shrink: true };
  const tally = await checkModel(t, `authorization model, local, ${engine}`, run, async (spec, cases, tally) => {
    await rolledBack(db, 'run', async () => {
      const now = new Date();
      const world = await seedWorld(base.ctx, spec, now);
      const { ctx } = world;
      const env: CaseEnv = {
        store: ctx.store,
        tenantId: world.tenantId,
        now: () => now,
        withOperator: true,
        remote: false,
        foreignKey: foreign.accessKeyId,
        secrets: world.secrets,
        serviceFor: async (actor) =>
          LocalService.withActor(
            ctx,
            ctx.tenant,
            await ctx.store.read(async (q) =>
              actor.keyId ? keyActor(q, (await getKey(q, ctx.tenant.id, actor.keyId))!) : operatorActor(q, ctx.tenant),
            ),
            'test',
          ),
      };
      for (const spec of cases)
        await rolledBack(db, 'authz_case', async () => void tally.add(await runCase(env, spec)));
    });
  });
  for (const kind of ['done', 'denied', 'not found', 'conflict', 'usage'])
    t.true((tally.outcomes.get(kind) ?? 0) > 0, `no case ended "${kind}"`);
});
