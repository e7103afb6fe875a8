/**
 * Concurrency on one store (issue 2 item 7, issue 5 item 2), a SQLite file or a PostgreSQL
 * database: eight processes, released together by a start barrier. AKM_RACE_ROUNDS and
 * AKM_STRESS_SECONDS scale the two suites.
 */
import { perEngine } from '../helpers/engines.js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { openSecret, digestMatches } from '../../src/crypto/seal.js';
import { envInt, fixture, mostAtOnce, spawnNode, type Child } from '../helpers/children.js';
import { tempStore, twoTenants, type TempStore } from '../helpers/store.js';
import { auditRecords, keysOf } from '../helpers/service.js';

const WORKERS = 8;
const ROUNDS = envInt('AKM_RACE_ROUNDS', 5);
const SECONDS = envInt('AKM_STRESS_SECONDS', process.env.CI ? 5 : 3);

interface ErrorInfo {
  name: string;
  code: string | null;
  exitCode: number | null;
  message: string;
}

function spawnWorkers(store: TempStore, args: (worker: number) => string[]): Child[] {
  return Array.from({ length: WORKERS }, (_, w) =>
    spawnNode(fixture('worker'), args(w), { env: { ...process.env, AKM_MASTER_KEY: store.masterKey } }),
  );
}

function parsed<T>(child: Child): T[] {
  return child.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as T);
}

/** Anything but the refusals the mix expects is a failure: above all SQLITE_BUSY / store_locked. */
function unexpected(error: ErrorInfo): boolean {
  return !(error.code === 'key_limit' || error.code === 'key_not_found');
}

perEngine(
  '8 processes create keys for the same user at the same moment: exactly 2 succeed, 6 get exit 4',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const setup = await store.open();
    for (let r = 0; r < ROUNDS; r++) await setup.addUser(`race${r}@acme.test`, '');
    await setup.close();
    const barrier = join(store.dir, 'barrier');
    mkdirSync(barrier);
    const children = spawnWorkers(store, (w) => ['race', store.location, String(w), barrier, String(ROUNDS)]);
    t.teardown(() => children.forEach((c) => c.process.kill('SIGKILL')));

    interface RaceResult {
      round: number;
      worker: number;
      t0: number;
      t1: number;
      ok: boolean;
      id?: string;
      error?: ErrorInfo;
    }
    for (let round = 0; round < ROUNDS; round++) {
      await Promise.all(children.map((c) => c.waitForLine((l) => l === JSON.stringify({ ready: round }), 60_000)));
      writeFileSync(join(barrier, `go-${round}`), '');
      await Promise.all(children.map((c) => c.waitForLine((l) => l.startsWith(`{"round":${round},`), 60_000)));
      const results = children.map((c) => parsed<RaceResult>(c).find((r) => r.round === round)!);
      const ok = results.filter((r) => r.ok);
      const refused = results.filter((r) => !r.ok);
      t.is(ok.length, 2, `round ${round}: ${JSON.stringify(results.map((r) => r.error ?? 'ok'))}`);
      t.is(refused.length, 6);
      for (const r of refused) {
        t.is(r.error?.name, 'ConflictError', JSON.stringify(r.error));
        t.is(r.error?.exitCode, 4);
        t.is(r.error?.code, 'key_limit');
        t.false(/SQLITE_BUSY|locked|busy/i.test(r.error?.message ?? ''), r.error?.message);
      }
      // Three callers at once is the smallest race for two slots; fewer would test nothing.
      const together = mostAtOnce(results);
      t.true(together >= 3, `round ${round}: only ${together} of the 8 calls were in flight at once`);
      const starts = results.map((r) => r.t0);
      t.log(
        `round ${round}: 2 created, 6 refused (key_limit); the 8 calls started within ` +
          `${(Math.max(...starts) - Math.min(...starts)).toFixed(2)} ms, ${together} in flight at once`,
      );
    }
    const exits = await Promise.all(children.map((c) => c.exited));
    exits.forEach((e, i) => t.is(e.code, 0, children[i]!.stderr()));

    const check = await store.open();
    t.teardown(() => check.close());
    for (let r = 0; r < ROUNDS; r++) {
      const owned = (await check.listKeys({ owner: `race${r}@acme.test` })).items;
      t.is(owned.length, 2);
    }
    t.is(
      (await auditRecords(check, 'key.create')).length,
      2 * ROUNDS,
      'one audit record per key, none for the refusals',
    );
  },
);

interface MixOp {
  worker: number;
  seq: number;
  op: 'create' | 'rotate' | 'deactivate' | 'delete';
  t0: number;
  t1: number;
  ok: boolean;
  id: string | null;
  owner?: string | null;
  secret?: string;
  error?: ErrorInfo;
}

interface ModelKey {
  owner: string | null;
  secret: string;
  status: 'active' | 'inactive';
}

perEngine(
  '8 processes mixing create/rotate/deactivate/delete: no SQLITE_BUSY, the limit holds, the final state matches a sequential model',
  async (t, engine) => {
    const USERS = 4;
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const setup = await store.open();
    for (let u = 0; u < USERS; u++) await setup.addUser(`u${u}@acme.test`, '');
    await setup.close();
    const barrier = join(store.dir, 'barrier');
    mkdirSync(barrier);
    const children = spawnWorkers(store, (w) => [
      'mix',
      store.location,
      String(w),
      barrier,
      String(SECONDS),
      String(USERS),
    ]);
    t.teardown(() => children.forEach((c) => c.process.kill('SIGKILL')));
    await Promise.all(children.map((c) => c.waitForLine((l) => l === '{"ready":0}', 60_000)));
    writeFileSync(join(barrier, 'go-0'), '');
    const exits = await Promise.all(children.map((c) => c.exited));
    exits.forEach((e, i) => t.is(e.code, 0, children[i]!.stderr()));

    const ops = children.flatMap((c) => parsed<MixOp>(c).filter((o) => 'op' in o));
    // The workers really ran side by side: a moment when all of them were at work, and calls
    // waiting on each other (a run where they took turns would test no concurrency at all).
    const spans = children.map((c) => parsed<MixOp>(c).filter((o) => 'op' in o));
    const allAtWork = Math.max(...spans.map((s) => s[0]!.t0)) < Math.min(...spans.map((s) => s.at(-1)!.t1));
    t.true(allAtWork, 'every worker was running at one moment');
    const together = mostAtOnce(ops);
    t.true(together >= 4, `at most ${together} calls were in flight at once`);
    const acked = ops.filter((o) => o.ok);
    const failures = ops.filter((o) => !o.ok);
    const bad = failures.filter((o) => unexpected(o.error!));
    t.deepEqual(
      bad.map((o) => `${o.op}: ${o.error?.code} ${o.error?.message}`),
      [],
      'only key_limit and key_not_found refusals; no SQLITE_BUSY',
    );

    // The audit trail is written in the transaction of each change: its seq is the commit order.
    const check = await store.open();
    t.teardown(() => check.close());
    const records = (await auditRecords(check)).filter(
      (r) => r.source.startsWith('worker-') && r.action.startsWith('key.'),
    );
    const pending = new Map<string, MixOp[]>();
    const bucket = (worker: number, op: string, id: string) => `${worker} ${op} ${id}`;
    for (const o of acked) {
      const k = bucket(o.worker, o.op, o.id!);
      pending.set(k, [...(pending.get(k) ?? []), o]);
    }
    for (const list of pending.values()) list.sort((a, b) => a.seq - b.seq);

    const model = new Map<string, ModelKey>();
    const seqOf = new Map<MixOp, number>();
    const problems: string[] = [];
    let maxOwned = 0;
    for (const record of records) {
      const worker = Number(record.source.slice('worker-'.length));
      const op = record.action.slice('key.'.length);
      const ack = pending.get(bucket(worker, op, record.target!))?.shift();
      if (!ack) {
        problems.push(
          `audit #${record.seq} ${record.action} ${record.target} by worker ${worker} was never acknowledged`,
        );
        continue;
      }
      seqOf.set(ack, record.seq);
      const key = model.get(record.target!);
      if (op === 'create') {
        if (key) problems.push(`#${record.seq}: created twice`);
        const owned = [...model.values()].filter((k) => ack.owner && k.owner === ack.owner).length;
        if (ack.owner && owned >= 2) problems.push(`#${record.seq}: a third key for ${ack.owner}`);
        model.set(record.target!, { owner: ack.owner ?? null, secret: ack.secret!, status: 'active' });
        maxOwned = Math.max(maxOwned, owned + (ack.owner ? 1 : 0));
      } else if (!key) {
        problems.push(`#${record.seq}: ${op} of a key that does not exist at that point`);
      } else if (op === 'rotate') key.secret = ack.secret!;
      else if (op === 'deactivate') key.status = 'inactive';
      else if (op === 'delete') model.delete(record.target!);
    }
    // Acknowledged but never recorded: only a deactivate of a key that was already inactive may be.
    for (const list of pending.values()) {
      for (const o of list) {
        if (o.op !== 'deactivate')
          problems.push(`acknowledged ${o.op} ${o.id} (worker ${o.worker} #${o.seq}) has no audit record`);
        else if (model.has(o.id!) && model.get(o.id!)!.status !== 'inactive')
          problems.push(`deactivate ${o.id} acknowledged but the key is active`);
      }
    }
    // Real time: an operation acknowledged before another began must come first in the commit order.
    const ordered = acked.filter((o) => seqOf.has(o)).sort((a, b) => a.t1 - b.t1);
    let inversions = 0;
    const byStart = [...ordered].sort((a, b) => a.t0 - b.t0);
    for (const a of ordered) {
      for (const b of byStart) {
        if (b.t0 <= a.t1 + 5) continue; // 5 ms allowance for clocks of different processes
        if (seqOf.get(a)! > seqOf.get(b)!) inversions++;
      }
    }
    t.deepEqual(problems, [], 'the audit order is a valid sequential history of the acknowledged operations');
    t.is(inversions, 0, 'commit order respects real-time order');

    // The final store is what the model predicts, secret for secret.
    const keys = keysOf(store);
    const raw = await store.raw();
    t.teardown(() => raw.close());
    const rows = await raw.all<{
      id: string;
      status: string;
      secret_sealed: Buffer;
      secret_digest: Buffer;
      owner: string | null;
    }>(
      'SELECT k.id, k.status, k.secret_sealed, k.secret_digest, u.email AS owner FROM keys k LEFT JOIN users u ON u.id = k.owner_id',
    );
    t.deepEqual(rows.map((r) => r.id).sort(), [...model.keys()].sort(), 'the same keys');
    for (const row of rows) {
      const expected = model.get(row.id);
      if (!expected) continue;
      t.is(row.owner, expected.owner);
      t.is(row.status, expected.status, row.id);
      t.is(
        openSecret(keys, 'acme', row.id, row.secret_sealed),
        expected.secret,
        `${row.id}: the last acknowledged secret`,
      );
      t.true(digestMatches(keys, 'acme', row.id, expected.secret, row.secret_digest));
    }
    const perOwner = await raw.all<{ n: number }>(
      'SELECT owner_id, count(*) AS n FROM keys WHERE owner_id IS NOT NULL GROUP BY owner_id',
    );
    t.true(perOwner.every((r) => r.n <= 2));
    if (engine === 'sqlite')
      t.is(await raw.get<{ integrity_check: string }>('PRAGMA integrity_check').then((r) => r!.integrity_check), 'ok');

    const count = (list: MixOp[], op: string) => list.filter((o) => o.op === op).length;
    const refusedLimit = failures.filter((o) => o.error?.code === 'key_limit').length;
    t.log(
      `${WORKERS} processes × ${SECONDS} s: ${ops.length} operations (${(ops.length / SECONDS).toFixed(0)}/s); acknowledged ${count(acked, 'create')} create, ${count(acked, 'rotate')} rotate, ${count(acked, 'deactivate')} deactivate, ${count(acked, 'delete')} delete; refused ${refusedLimit} by the two-key limit, up to ${together} calls in flight at once, ${failures.length - refusedLimit} on keys deleted meanwhile; 0 SQLITE_BUSY; ${records.length} audit records replayed, limit peak ${maxOwned}/2, ${rows.length} keys at the end`,
    );
    t.true(
      count(acked, 'create') > 0 && count(acked, 'rotate') > 0 && count(acked, 'delete') > 0,
      'the mix really mixed',
    );
  },
);

perEngine(
  'in one process, calls interleaved on one service each run in a transaction of their own',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    t.teardown(() => service.close());
    const keys = await Promise.all(
      Array.from({ length: 12 }, (_, i) =>
        service.createKey({
          name: `k${i}`,
          type: 'access',
          expiry: { kind: 'never' },
          owner: null,
          groups: [],
          roles: [],
        }),
      ),
    );
    // Reads, rotations and assignments all at once: `akm serve` interleaves requests like this.
    const results = await Promise.allSettled([
      ...keys.map((k) => service.rotateKey(k.accessKeyId, 0)),
      ...keys.map(() => service.listKeys({})),
      ...keys.map((k) =>
        service.assignKey(k.accessKeyId, { addGroups: [], addRoles: ['ReadOnly'], removeGroups: [], removeRoles: [] }),
      ),
      ...keys.map((k) => service.showKey(k.accessKeyId)),
    ]);
    t.deepEqual(
      results.filter((r) => r.status === 'rejected').map((r) => String(r.reason)),
      [],
    );
    const audit = await service.verifyAudit();
    t.true(audit.ok, JSON.stringify(audit.problems));
    t.is((await auditRecords(service, 'key.rotate')).length, 12);
    t.is((await auditRecords(service, 'key.assign')).length, 12);
  },
);

perEngine('two tenants writing at once keep each their own unbroken audit chain', async (t, engine) => {
  const { acme, globex } = await twoTenants(t, engine);
  const writes = [acme, globex].flatMap((service) =>
    Array.from({ length: 15 }, (_, i) => service.addUser(`u${i}@${service.ctx.tenant.id}.test`, '')),
  );
  await Promise.all(writes);
  for (const service of [acme, globex]) {
    const audit = await service.verifyAudit();
    t.true(audit.ok, JSON.stringify(audit.problems));
    t.is(audit.records, 1 + 15, service.ctx.tenant.id); // tenant.init, then the 15 users
  }
});
