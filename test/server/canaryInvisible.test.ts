/**
 * Canary keys do not exist for anyone but an administrator, through a real `akm serve` on
 * 127.0.0.1: every call is SigV4-signed by the acting key (helpers/canaryProbe.ts says what is
 * checked). Probes also compare the HTTP status and code the server answered. The canary is
 * tripped for real, by POST /v1/verify with its key string.
 *   AKM_CANARY_SERVER_WORLDS  worlds to generate (default 16)
 */
import test from 'ava';
import fc from 'fast-check';
import { generateAccessKeyId, generateSecretKey } from '../../src/core/credentials.js';
import type { AkmError } from '../../src/core/errors.js';
import type { AuditRecord } from '../../src/service/auditTypes.js';
import type { AkmService } from '../../src/service/types.js';
import { auditLines, seedWorld } from '../helpers/authzWorld.js';
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
import { checkAsyncProperty, propertyConfig } from '../helpers/property.js';
import { postVerify, serverFixture } from '../helpers/server.js';
import { auditRecords, keyInput } from '../helpers/service.js';

const WORLDS = Number(process.env.AKM_CANARY_SERVER_WORLDS) || 16;

test(`through akm serve, a canary does not exist for a non-administrator (${WORLDS} worlds)`, async (t) => {
  const fx = await serverFixture();
  const seeding = await fx.store.open();
  t.teardown(async () => {
    await seeding.close();
    await fx.close();
  });
  const lastWire = () => {
    const line = fx.logs.filter((l) => l.event === 'request').at(-1)!;
    return `${String(line.status)} ${String(line.code)}`;
  };
  let probes = 0;
  let compared = 0;
  const property = fc.asyncProperty(
    canaryWorldArb,
    fc.nat(40),
    fc.array(probeArb, { minLength: 10, maxLength: 10 }),
    async (spec, pick, specs) => {
      const { ctx, tenantId, secrets } = await seedWorld(seeding.ctx, spec, new Date());
      const bait = await plantBait(ctx);
      const world = await worldWithNames(ctx.store, tenantId, new Date());
      const actors = outsiders(world);
      if (actors.length === 0) return;
      const services = new Map<string, AkmService>();
      const serviceFor = (actor: { keyId: string | null }) => {
        const id = actor.keyId!;
        if (!services.has(id)) services.set(id, fx.remote({ accessKeyId: id, secretKey: secrets.get(id)! }));
        return services.get(id)!;
      };
      const seen = async () => {
        const all: string[] = [];
        for (const actor of actors) all.push(await views(serviceFor(actor), actor));
        return all;
      };
      const actor = actors[pick % actors.length]!;
      const canary = world.keys.filter((k) => k.canary)[pick % 2] ?? { id: bait.accessKeyId };
      const isolate = <T>(work: () => Promise<T>) => work();
      probes += await checkProbes(
        serviceFor,
        world,
        actor,
        { id: canary.id, name: bait.name },
        specs,
        isolate,
        lastWire,
      );
      probes += await checkPeopleProbes(ctx, serviceFor(actor), actor, canary.id, isolate, lastWire);

      // The probes leave records of their refusals: the views are taken after them.
      const before = await seen();
      const canaries = await canaryActivity(ctx, world);
      const trail = (await auditLines(ctx.store, tenantId)).length;
      const tried = await postVerify(fx.url, { accessKeyId: canaries[0], secretKey: bait.secretKey });
      if (tried.status !== 401) throw new Error(`a canary verified with ${tried.status}`);
      // The alarm is written within a second, off the answer's path.
      for (let i = 0; i < 100 && (await auditLines(ctx.store, tenantId)).length === trail; i++)
        await new Promise((resolve) => setTimeout(resolve, 50));
      const after = await seen();
      actors.forEach((who, i) => {
        if (before[i] !== after[i]) {
          const at = Math.max(0, [...before[i]!].findIndex((c, j) => c !== after[i]![j]) - 300);
          const from = (text: string) => text.slice(at, at + 600);
          throw new Error(`${who.label} sees the canaries, from:\n${from(before[i]!)}\n${from(after[i]!)}`);
        }
      });
      compared += actors.length;
    },
  );
  await checkAsyncProperty(
    t,
    'canary, server',
    property,
    { ...propertyConfig(), numRuns: WORLDS },
    { endOnFailure: true },
  );
  t.log(`${probes} probes answered for a canary and for a missing key; ${compared} actors' views compared`);
  t.true(probes > WORLDS * 5 && compared > 0);
});

test('a failed sign-in with a canary reads, in the audit trail, as one with a key that does not exist', async (t) => {
  const fx = await serverFixture();
  const local = await fx.store.open();
  t.teardown(async () => {
    await local.close();
    await fx.close();
  });
  await local.createRole('Auditor', ['audit:read']);
  const auditor = await local.createKey(keyInput({ name: 'auditor', roles: ['Auditor'] }));
  const canary = await local.createKey(keyInput({ name: 'backup-admin', canary: true, groups: ['Administrators'] }));
  const missing = generateAccessKeyId();
  const failed = (id: string, secretKey: string) =>
    fx
      .remote({ accessKeyId: id, secretKey })
      .whoami()
      .then(
        () => 'signed in',
        (error: AkmError) => `${error.exitCode} ${error.code}`,
      );
  t.is(await failed(canary.accessKeyId, canary.secretKey), '5 auth_failed');
  t.is(await failed(missing, generateSecretKey()), '5 auth_failed');
  const trail = () => fx.remote(auditor).listAudit({ limit: 10 });
  let records = (await trail()).items.filter((r) => r.action === 'auth.failed');
  for (let i = 0; i < 100 && records.length < 2; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    records = (await trail()).items.filter((r) => r.action === 'auth.failed');
  }
  const [second, first] = records;
  const masked = (record: AuditRecord, id: string) =>
    JSON.stringify({ ...record, at: null })
      .split(id)
      .join('<KEY>');
  t.is(masked(first!, canary.accessKeyId), masked(second!, missing));
  t.like(first!.details, { reason: 'unknown_key' });
  // The administrators have the alarm (written within a second, off the answer's path).
  let alarms = await auditRecords(local, 'key.canary_tripped');
  for (let i = 0; i < 100 && alarms.length === 0; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    alarms = await auditRecords(local, 'key.canary_tripped');
  }
  t.is(alarms.length, 1);
});
