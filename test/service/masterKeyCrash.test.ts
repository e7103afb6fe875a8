/**
 * A master key rotation killed with SIGKILL, AKM_ROTATE_KILLS times (45 under CI, 12 elsewhere),
 * on SQLite and on PostgreSQL, with the key in a file (--master-key-file): at random moments, and
 * right after the steps that matter (the new key written beside the old one, the commit).
 * After every kill, from outside akm: a SQLite file passes integrity_check (a PostgreSQL store is
 * first let settle); the store's check value is that of exactly one of the two keys, the old one
 * or the new one, and the new one is never in the file before the store is under it. Then the next
 * run, as `akm --master-key-file FILE` opens the store: it opens (finishing a cut-short move),
 * both tenants' audit chains verify, no row is altered, and the secrets issued before still verify.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { checkValue, deriveKeys } from '../../src/crypto/keys.js';
import { LocalService } from '../../src/service/local/service.js';
import { envInt, fixture, killHard, sleep, spawnNode, type Child } from '../helpers/children.js';
import { perEngine } from '../helpers/engines.js';
import { createMany, HOUR, keyInput } from '../helpers/service.js';
import { settled, tempStore } from '../helpers/store.js';

const KILLS = envInt('AKM_ROTATE_KILLS', process.env.CI ? 45 : 12);
const KEYS = envInt('AKM_ROTATE_KEYS', 300);
/**
 * When each kill lands, in turn: at a random moment of the rotation; as soon as the new key is
 * beside the old one (written, not yet in use); as soon as the commit is visible from outside
 * (the new key in use, perhaps not yet moved into the file).
 */
const MOMENTS = ['random', 'new key written', 'committed'] as const;

const readKey = (file: string) => readFileSync(file, 'utf8').trim();
/** The key a rotation left beside the file, if it got as far as writing it whole. */
function pendingKey(file: string): string | null {
  if (!existsSync(`${file}.next`)) return null;
  const text = readKey(`${file}.next`);
  return Buffer.from(text, 'base64').length === 32 ? text : null;
}

perEngine(
  `SIGKILL during a master key rotation (${KILLS} kills): exactly one of the two keys opens the store, intact`,
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const file = join(store.dir, 'master.key');
    writeFileSync(file, `${store.masterKey}\n`, { mode: 0o600 });
    const masterKey = { file, env: {}, keychain: () => ({}) as never };

    const acme = await store.open();
    const globex = await store.addTenant('globex');
    const many = await createMany(acme, KEYS, (i) => keyInput({ name: `k${i}` }));
    const graced = await acme.rotateKey(many[0]!.accessKeyId, HOUR);
    const theirs = await globex.createKey(keyInput({ name: 'theirs' }));
    await acme.close();
    await globex.close();
    const samples = [
      { id: graced.accessKeyId, secret: graced.secretKey, tenant: 'acme' },
      { id: graced.accessKeyId, secret: many[0]!.secretKey, tenant: 'acme' },
      ...many.slice(1, 20).map((k) => ({ id: k.accessKeyId, secret: k.secretKey, tenant: 'acme' })),
      { id: theirs.accessKeyId, secret: theirs.secretKey, tenant: 'globex' },
    ];

    const done = (child: Child) => child.lines.includes('{"rotated":true}');
    // Watched without a pause: the commit is followed within milliseconds by the move of the key.
    const watcher = await store.raw();
    t.teardown(() => watcher.close());
    const checkValueNow = async () =>
      (await watcher.get<{ value: string }>("SELECT value FROM meta WHERE key = 'master_key_check'"))!.value;
    const watch = async (what: string, seen: () => boolean | Promise<boolean>) => {
      const deadline = Date.now() + 60_000;
      while (!(await seen())) {
        if (Date.now() > deadline) throw new Error(`never saw: ${what}`);
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    const spawnRotator = () => spawnNode(fixture('rotator'), [store.location, file], { env: process.env });
    const start = async (child: Child) => {
      await child.waitForLine((l) => l === '{"loaded":true}', 60_000);
      child.send('go');
      await child.waitForLine((l) => l === '{"opened":true}', 60_000);
    };

    // One rotation to its end: how long one takes here.
    const first = spawnRotator();
    await start(first);
    const began = Date.now();
    await first.waitForLine((l) => l === '{"rotated":true}', 60_000);
    const wholeMs = Date.now() - began;
    await first.exited;
    let current = readKey(file);
    t.not(current, store.masterKey);

    const stats = { beforeCommit: 0, committedNotMoved: 0, moved: 0, finished: 0 };
    const pool = [spawnRotator(), spawnRotator()];
    t.teardown(() => pool.forEach((c) => c.process.kill('SIGKILL')));
    for (let kill = 0; kill < KILLS; kill++) {
      const child = pool.shift()!;
      pool.push(spawnRotator());
      const moment = MOMENTS[kill % MOMENTS.length]!;
      const checkBefore = await checkValueNow();
      await start(child);
      if (moment === 'random') await sleep(Math.floor(Math.random() * wholeMs * 1.2));
      else if (moment === 'new key written') await watch(moment, () => existsSync(`${file}.next`) || done(child));
      else await watch(moment, async () => (await checkValueNow()) !== checkBefore || done(child));
      await killHard(child);
      const fatal = child.lines.find((l) => l.includes('"fatal"'));
      if (fatal) t.fail(`kill ${kill}: the child failed on its own: ${fatal}`);
      if (done(child)) stats.finished++;

      const db = await store.raw();
      try {
        if (engine === 'sqlite') t.is((await db.get('PRAGMA integrity_check'))!.integrity_check, 'ok');
        else await settled(db);
        const meta = async (key: string) =>
          (await db.get<{ value: string }>('SELECT value FROM meta WHERE key = @key', { key }))!.value;
        const [check, storeId] = [await meta('master_key_check'), await meta('store_id')];
        const opens = (key: string) => checkValue(deriveKeys(Buffer.from(key, 'base64')), storeId) === check;
        const inFile = readKey(file);
        const pending = pendingKey(file);
        const fresh = [...new Set([inFile, pending])].filter((k): k is string => k !== null && k !== current);
        t.true(fresh.length <= 1, `kill ${kill}: at most one new key`);
        const opening = [current, ...fresh].filter(opens);
        t.is(opening.length, 1, `kill ${kill}: exactly one of the old and the new key opens the store`);
        if (opens(current)) {
          t.is(inFile, current, `kill ${kill}: the new key is not in the file before the store is under it`);
          stats.beforeCommit++;
        } else if (pending !== null && opens(pending) && inFile !== pending) stats.committedNotMoved++;
        else stats.moved++;
      } finally {
        await db.close();
      }

      // The next run opens it with the file, as akm does, and finds everything intact.
      for (const tenantId of ['acme', 'globex']) {
        const service = await LocalService.open({ store: store.location, tenantId, masterKey, source: 'test' });
        try {
          const audit = await service.verifyAudit();
          t.true(audit.ok, `kill ${kill}, ${tenantId}: ${JSON.stringify([audit.problems, audit.alteredRows])}`);
          for (const s of samples.filter((x) => x.tenant === tenantId))
            t.true(
              (await service.verifyKey({ accessKeyId: s.id, secretKey: s.secret })).valid,
              `kill ${kill}: ${s.id}`,
            );
        } finally {
          await service.close();
        }
      }
      current = readKey(file);
      t.false(pendingKey(file) === current, `kill ${kill}: the moved key is not left beside the file`);
    }
    pool.forEach((c) => c.process.kill('SIGKILL'));
    await Promise.all(pool.map((c) => c.exited));

    t.log(
      `${KILLS} SIGKILLs during rotations of ${KEYS + 1} keys in 2 tenants (a whole rotation: ${wholeMs} ms): ` +
        `${stats.beforeCommit} before the commit (old key), ${stats.committedNotMoved} after the commit before the ` +
        `new key was moved into the file, ${stats.moved} after (new key; ${stats.finished} had finished)`,
    );
    t.true(stats.beforeCommit > 0, 'kills before the commit');
    t.true(stats.committedNotMoved + stats.moved > stats.finished, 'kills after the commit, before the child finished');
  },
);
