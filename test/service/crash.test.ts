/**
 * Crash safety (issue 5 item 1): a child creating, rotating and deleting keys is killed with
 * SIGKILL at random moments, AKM_CRASH_KILLS times (200 under CI, 40 elsewhere), on SQLite and
 * on PostgreSQL. After every kill, from outside akm: a SQLite file passes integrity_check (a
 * PostgreSQL store is first let settle: the killed client's server process may still be
 * finishing the commit it had sent, or rolling back); every operation the child
 * reported after its commit is there; at most the one operation it had begun is there or not,
 * whole; no key lacks its audit record and no audit record lacks its change; each key's sealed
 * secret and digest belong together (no half-done rotation).
 */
import { perEngine } from '../helpers/engines.js';
import { digestMatches, openSecret } from '../../src/crypto/seal.js';
import { envInt, fixture, killHard, sleep, spawnNode, type Child } from '../helpers/children.js';
import { settled, tempStore, type TempStore } from '../helpers/store.js';
import { keysOf } from '../helpers/service.js';

const KILLS = envInt('AKM_CRASH_KILLS', process.env.CI ? 200 : 40);
const MAX_RUN_MS = envInt('AKM_CRASH_MAX_RUN_MS', 80);
const USERS = 3;

type Line =
  | { loaded: true }
  | { opened: true }
  | { begin: 'create'; owner: string | null; name: string }
  | { begin: 'rotate'; id: string; grace: number }
  | { begin: 'delete'; id: string }
  | { done: 'create'; id: string; owner: string | null; secret: string }
  | { done: 'rotate'; id: string; secret: string; grace: number }
  | { done: 'delete'; id: string }
  | { fatal: string };

interface ModelKey {
  owner: string | null;
  secret: string;
  previous: string | null;
}

interface Row {
  id: string;
  owner: string | null;
  secret_sealed: Buffer;
  secret_digest: Buffer;
  previous_sealed: Buffer | null;
  previous_digest: Buffer | null;
}

function spawnCrasher(store: TempStore): Child {
  return spawnNode(fixture('crasher'), [store.location, String(USERS)], {
    env: { ...process.env, AKM_MASTER_KEY: store.masterKey },
  });
}

perEngine(
  `SIGKILL at random moments (${KILLS} kills): nothing committed is lost, nothing half-done is visible`,
  async (t, engine) => {
    const started = Date.now();
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const setup = await store.open();
    for (let u = 0; u < USERS; u++) await setup.addUser(`u${u}@acme.test`, '');
    await setup.close();
    const keys = keysOf(store);

    const model = new Map<string, ModelKey>();
    const audited = { create: 0, rotate: 0, delete: 0 };
    const stats = { kills: 0, reported: 0, inFlight: 0, inFlightCommitted: 0, duringStartup: 0, chainChecks: 0 };
    const pool: Child[] = [spawnCrasher(store), spawnCrasher(store), spawnCrasher(store)];
    t.teardown(() => pool.forEach((c) => c.process.kill('SIGKILL')));

    for (let kill = 0; kill < KILLS; kill++) {
      const child = pool.shift()!;
      pool.push(spawnCrasher(store));
      await child.waitForLine((l) => l === '{"loaded":true}', 60_000);
      child.send('go');
      // Opening a PostgreSQL store takes longer than a whole SQLite run: the clock starts once it is open.
      await child.waitForLine((l) => l === '{"opened":true}', 60_000);
      await sleep(Math.floor(Math.random() * MAX_RUN_MS));
      await killHard(child);
      stats.kills++;

      const lines = child.lines.map((l) => JSON.parse(l) as Line);
      const fatal = lines.find((l) => 'fatal' in l);
      if (fatal) t.fail(`the child failed on its own: ${fatal.fatal}`);
      // Apply what the child reported as committed, in order.
      let inFlight: Line | null = null;
      for (const line of lines) {
        if ('begin' in line) inFlight = line;
        if (!('done' in line)) continue;
        inFlight = null;
        stats.reported++;
        audited[line.done]++;
        if (line.done === 'create') model.set(line.id, { owner: line.owner, secret: line.secret, previous: null });
        else if (line.done === 'rotate') {
          const key = model.get(line.id)!;
          model.set(line.id, { ...key, previous: line.grace > 0 ? key.secret : null, secret: line.secret });
        } else model.delete(line.id);
      }
      if (!lines.some((l) => 'begin' in l)) stats.duringStartup++;

      const db = await store.raw();
      try {
        if (engine === 'sqlite') {
          t.is((await db.get('PRAGMA integrity_check'))!.integrity_check, 'ok', `kill ${kill}`);
          t.deepEqual(await db.all('PRAGMA foreign_key_check'), [], `kill ${kill}`);
        } else await settled(db);
        const rows = new Map(
          (
            await db.all<Row>(
              'SELECT k.id, u.email AS owner, k.secret_sealed, k.secret_digest, k.previous_sealed, k.previous_digest FROM keys k LEFT JOIN users u ON u.id = k.owner_id',
            )
          ).map((r) => [r.id, r]),
        );
        const open = (row: Row) => openSecret(keys, 'acme', row.id, row.secret_sealed);

        // The one operation the child had begun: committed whole, or not at all.
        if (inFlight && 'begin' in inFlight) {
          stats.inFlight++;
          let committed = false;
          if (inFlight.begin === 'create') {
            const extra = [...rows.keys()].filter((id) => !model.has(id));
            t.true(extra.length <= 1, `kill ${kill}: ${extra.length} unreported keys`);
            if (extra.length === 1) {
              const row = rows.get(extra[0]!)!;
              t.is(row.owner, inFlight.owner);
              model.set(row.id, { owner: row.owner, secret: open(row), previous: null });
              committed = true;
            }
          } else if (inFlight.begin === 'rotate') {
            const row = rows.get(inFlight.id);
            const before = model.get(inFlight.id)!;
            if (row && open(row) !== before.secret) {
              model.set(inFlight.id, {
                ...before,
                secret: open(row),
                previous: inFlight.grace > 0 ? before.secret : null,
              });
              committed = true;
            }
          } else if (!rows.has(inFlight.id)) {
            model.delete(inFlight.id);
            committed = true;
          }
          if (committed) {
            audited[inFlight.begin]++;
            stats.inFlightCommitted++;
          }
        }

        // Every reported operation is there, and nothing else.
        t.deepEqual([...rows.keys()].sort(), [...model.keys()].sort(), `kill ${kill}: the keys`);
        for (const [id, expected] of model) {
          const row = rows.get(id);
          if (!row) continue;
          t.is(row.owner, expected.owner);
          t.is(open(row), expected.secret, `kill ${kill}: ${id} holds the last committed secret`);
          t.true(
            digestMatches(keys, 'acme', id, expected.secret, row.secret_digest),
            `kill ${kill}: ${id} digest belongs to its sealed secret`,
          );
          if (expected.previous === null)
            t.is(row.previous_sealed, null, `kill ${kill}: ${id} keeps no old secret after an immediate rotation`);
          else {
            t.is(
              openSecret(keys, 'acme', id, row.previous_sealed!),
              expected.previous,
              `kill ${kill}: ${id} previous secret`,
            );
            t.true(digestMatches(keys, 'acme', id, expected.previous, row.previous_digest));
          }
        }
        // The audit trail holds exactly the committed changes; every key has its creation record.
        const counts = Object.fromEntries(
          (
            await db.all<{ action: string; n: number }>(
              "SELECT action, count(*) AS n FROM audit WHERE source = 'crasher' GROUP BY action",
            )
          ).map((r) => [r.action, r.n]),
        );
        t.deepEqual(
          { create: counts['key.create'] ?? 0, rotate: counts['key.rotate'] ?? 0, delete: counts['key.delete'] ?? 0 },
          audited,
          `kill ${kill}: audit counts`,
        );
        const orphans = await db.all(
          "SELECT k.id FROM keys k WHERE NOT EXISTS (SELECT 1 FROM audit a WHERE a.action = 'key.create' AND a.target = k.id)",
        );
        t.deepEqual(orphans, [], `kill ${kill}: keys without their audit record`);
        const overLimit = await db.all(
          'SELECT owner_id FROM keys WHERE owner_id IS NOT NULL GROUP BY owner_id HAVING count(*) > 2',
        );
        t.deepEqual(overLimit, []);
      } finally {
        await db.close();
      }

      if (kill % 25 === 24 || kill === KILLS - 1) {
        const service = await store.open();
        const chain = await service.verifyAudit();
        await service.close();
        t.true(chain.ok, `kill ${kill}: audit chain ${JSON.stringify(chain.problems.slice(0, 3))}`);
        stats.chainChecks++;
      }
    }
    pool.forEach((c) => c.process.kill('SIGKILL'));
    await Promise.all(pool.map((c) => c.exited));

    // The survivors still work through akm itself.
    const service = await store.open();
    t.teardown(() => service.close());
    for (const [id, key] of model)
      t.true((await service.verifyKey({ accessKeyId: id, secretKey: key.secret })).valid, id);

    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    t.log(
      `${stats.kills} SIGKILLs in ${seconds} s: ${stats.reported} operations reported committed and found (${audited.create} create, ${audited.rotate} rotate, ${audited.delete} delete in the audit trail); ` +
        `${stats.inFlight} kills interrupted an operation (${stats.inFlightCommitted} had committed, ${stats.inFlight - stats.inFlightCommitted} had not), ${stats.duringStartup} landed before the first operation; ` +
        `${engine === 'sqlite' ? `integrity_check ok ${stats.kills}×` : 'settled and checked after every kill'}, audit chain verified ${stats.chainChecks}×; ${model.size} keys at the end`,
    );
    t.true(stats.inFlight >= stats.kills / 4, 'most kills must interrupt an operation, or the test proves little');
  },
);
