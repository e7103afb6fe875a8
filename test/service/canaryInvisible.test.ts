/**
 * Canary keys do not exist for anyone but an administrator, on the local service
 * (helpers/canaryProbe.ts says what is checked). On SQLite each world lives in a transaction of
 * the connection, rolled back at the end, and each probe in a savepoint of it; on PostgreSQL each
 * world is a new tenant whose changes commit.
 *   AKM_CANARY_WORLDS     worlds on SQLite (default 150)
 *   AKM_CANARY_PG_WORLDS  worlds on PostgreSQL (default 15)
 */
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import { recordCanaryTrips } from '../../src/service/local/canary.js';
import { keyActor } from '../../src/service/local/actor.js';
import type { LocalContext } from '../../src/service/local/context.js';
import * as keys from '../../src/service/local/keys.js';
import * as people from '../../src/service/local/people.js';
import * as policy from '../../src/service/local/policy.js';
import { LocalService } from '../../src/service/local/service.js';
import { getKey } from '../../src/store/keys.js';
import type { SqliteStore } from '../../src/store/sqlite/store.js';
import type { ModelActor } from '../helpers/authzModel.js';
import { rolledBack, seedWorld } from '../helpers/authzWorld.js';
import {
  canaryActivity,
  canaryWorldArb,
  checkPeopleProbes,
  checkProbes,
  outsiders,
  plantBait,
  probeArb,
  views,
  worldWithNames,
} from '../helpers/canaryProbe.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { checkAsyncProperty, propertyConfig } from '../helpers/property.js';
import { tempStore } from '../helpers/store.js';

const WORLDS = {
  sqlite: Number(process.env.AKM_CANARY_WORLDS) || 150,
  postgres: Number(process.env.AKM_CANARY_PG_WORLDS) || 15,
};
const PROBES_PER_WORLD = 12;

function serviceFor(ctx: LocalContext) {
  return async (actor: ModelActor) =>
    LocalService.withActor(
      ctx,
      ctx.tenant,
      await ctx.store.read(async (q) => keyActor(q, (await getKey(q, ctx.tenant.id, actor.keyId!))!)),
      'test',
    );
}

/** A store for many worlds: on SQLite, the connection whose transactions the worlds roll back. */
async function canaryStore(t: ExecutionContext, engine: Engine) {
  const store = await tempStore(engine, 'akm-canary-');
  const base = await store.open();
  t.teardown(async () => {
    await base.close();
    await store.cleanup();
  });
  // The integrity key is attached before the first transaction that seeds a world.
  await base.ctx.loadKeys();
  return { base, db: engine === 'sqlite' ? (base.ctx.store as SqliteStore).db : undefined };
}

perEngine('to anyone but an administrator, a canary answers as a key that does not exist', async (t, engine) => {
  const { base, db } = await canaryStore(t, engine);
  let probes = 0;
  let savepoints = 0;
  const property = fc.asyncProperty(
    canaryWorldArb,
    fc.nat(40),
    fc.array(probeArb, { minLength: PROBES_PER_WORLD, maxLength: PROBES_PER_WORLD }),
    (spec, pick, specs) =>
      rolledBack(db, 'run', async () => {
        const now = new Date();
        const { ctx, tenantId } = await seedWorld(base.ctx, spec, now);
        const bait = await plantBait(ctx);
        const world = await worldWithNames(ctx.store, tenantId, now);
        const actors = outsiders(world);
        if (actors.length === 0) return;
        const actor = actors[pick % actors.length]!;
        const canary = world.keys.filter((k) => k.canary)[pick % 2] ?? { id: bait.accessKeyId };
        const isolate = <T>(work: () => Promise<T>) => rolledBack(db, `probe${++savepoints}`, work);
        probes += await checkProbes(serviceFor(ctx), world, actor, { id: canary.id, name: bait.name }, specs, isolate);
        const service = await serviceFor(ctx)(actor);
        probes += await checkPeopleProbes(ctx, service, actor, canary.id, isolate);
      }),
  );
  await checkAsyncProperty(t, `canary probes, local, ${engine}`, property, {
    ...propertyConfig(),
    numRuns: WORLDS[engine],
  });
  t.log(`${probes} probes, each answered for a canary and for a key that does not exist`);
  t.true(probes >= WORLDS[engine] * (PROBES_PER_WORLD + 4) * 0.8, `${probes} probes`);
});

perEngine(
  'what a non-administrator reads is the same with and without canaries planted, changed and tripped',
  async (t, engine) => {
    const { base, db } = await canaryStore(t, engine);
    let compared = 0;
    const property = fc.asyncProperty(canaryWorldArb, (spec) =>
      rolledBack(db, 'run', async () => {
        const now = new Date();
        const { ctx, tenantId } = await seedWorld(base.ctx, spec, now);
        const world = await worldWithNames(ctx.store, tenantId, now);
        const actors = outsiders(world);
        const seen = async () => {
          const all: string[] = [];
          for (const actor of actors) all.push(await views(await serviceFor(ctx)(actor), actor));
          return all;
        };
        const compare = (why: string, one: string[], other: string[]) =>
          actors.forEach((actor, i) => {
            if (one[i] !== other[i]) {
              const at = Math.max(0, [...one[i]!].findIndex((c, j) => c !== other[i]![j]) - 300);
              const from = (text: string) => text.slice(at, at + 600);
              throw new Error(
                `${actor.label} [${actor.permissions.join(' ')}] ${why}, from:\n${from(one[i]!)}\n${from(other[i]!)}`,
              );
            }
          });
        const canaryTime = async () => {
          const canaries = await canaryActivity(ctx, world);
          // A thief tries one from a laptop: the alarm goes to the administrators.
          const source = { service: null, address: '203.0.113.7', userAgent: 'curl/8', via: null };
          const trip = { tenantId, at: now.toISOString(), source, path: 'verify' as const, secretMatched: false };
          await recordCanaryTrips(ctx, [{ ...trip, accessKeyId: canaries[0]! }]);
        };
        const before = await seen();
        if (!db) {
          // Committed worlds (PostgreSQL): the same views before and after.
          await canaryTime();
          compare('sees the canaries', before, await seen());
        } else {
          // Then something everyone may see happens, with or without the canaries before it:
          // what comes after records left out must not show where they were.
          const later = async () => {
            await people.addUser(ctx, `late@${tenantId}.test`, 'Late');
            const key = world.keys.find((k) => !k.canary)!;
            await keys.editKey(ctx, key.id, { description: 'seen by all' });
            // Its record counts the keys that break it: a canary is not among them for the reader.
            await policy.setPolicy(ctx, { maxLifetimeDays: 20 }, { dryRun: false });
            return seen();
          };
          const without = await rolledBack(db, 'without', later);
          const withCanaries = await rolledBack(db, 'with', async () => {
            await canaryTime();
            compare('sees the canaries', before, await seen());
            return later();
          });
          compare('tells the canaries from what came after', without, withCanaries);
        }
        compared += actors.length;
      }),
    );
    await checkAsyncProperty(t, `canary views, local, ${engine}`, property, {
      ...propertyConfig(),
      numRuns: Math.ceil(WORLDS[engine] / 3),
    });
    t.log(`${compared} actors' views compared`);
    t.true(compared > 0);
  },
);
