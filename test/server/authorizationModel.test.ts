/**
 * The authorization rule against its reference model, through a real `akm serve` on 127.0.0.1:
 * every call is a SigV4-signed request from the remote client (aws4), signed with the acting key's
 * own secret. Worlds are seeded as new tenants through the local service on the same store; calls
 * that the model allows change the world, and the next call is judged on the world as it then is.
 *   AKM_AUTHZ_SERVER_WORLDS  worlds to generate (20 calls each, fewer once nobody is left to act;
 *                            default 32, at least 500 calls)
 */
import test from 'ava';
import { checkModel, runCase, type CaseEnv } from '../helpers/authzCases.js';
import { seedWorld } from '../helpers/authzWorld.js';
import { serverFixture } from '../helpers/server.js';

const WORLDS = Number(process.env.AKM_AUTHZ_SERVER_WORLDS) || 32;

test(`akm serve decides as the reference model, over signed requests (${WORLDS} worlds)`, async (t) => {
  const fx = await serverFixture();
  const seeding = await fx.store.open();
  t.teardown(async () => {
    await seeding.close();
    await fx.close();
  });
  // A failure is reported as found: shrinking would replay whole worlds through the server.
  const run = { worlds: WORLDS, minimum: 500, scaled: !!process.env.AKM_AUTHZ_SERVER_WORLDS, shrink: false };
  const tally = await checkModel(t, 'authorization model, server', run, async (spec, cases, tally) => {
    const world = await seedWorld(seeding.ctx, spec, new Date());
    const secrets = world.secrets;
    const env: CaseEnv = {
      store: seeding.ctx.store,
      tenantId: world.tenantId,
      now: () => new Date(),
      withOperator: false,
      remote: true,
      foreignKey: fx.admin.accessKeyId,
      secrets,
      serviceFor: (actor) => fx.remote({ accessKeyId: actor.keyId!, secretKey: secrets.get(actor.keyId!)! }),
    };
    for (const spec of cases) {
      const outcome = await runCase(env, spec);
      tally.add(outcome);
      if (!outcome) break;
      if (outcome.issued) secrets.set(outcome.issued.keyId, outcome.issued.secretKey);
      // On the wire a denial is a 403 (authenticated, not allowed), never a 401.
      const last = fx.logs.filter((l) => l.event === 'request').at(-1)!;
      if (outcome.expected === 'denied' && (last.status !== 403 || last.code !== outcome.code))
        throw new Error(`a denial answered ${last.status} ${String(last.code)}: ${JSON.stringify(last)}`);
    }
  });
  t.true((tally.outcomes.get('denied') ?? 0) > 0 && (tally.outcomes.get('done') ?? 0) > 0);
});
