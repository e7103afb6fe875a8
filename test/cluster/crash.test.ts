/**
 * SIGKILL of one replica under mixed load (create, rotate, verify) on three `akm serve`
 * processes over one PostgreSQL store: no write a client saw acknowledged is lost, and the other
 * replicas go on serving without an error. Bounded: AKM_CLUSTER_OPS operations per worker.
 */
import { envInt, killHard } from '../helpers/children.js';
import { startCluster } from '../helpers/cluster.js';
import { postgresOnly } from '../helpers/engines.js';
import { keyInput } from '../helpers/service.js';
import { postVerify } from '../helpers/server.js';

interface Tally {
  /** operations acknowledged by a replica */
  acknowledged: number;
  /** failures from replicas other than the killed one, after it was killed (must stay empty) */
  survivorErrors: string[];
}

postgresOnly.serial('a replica killed under load loses no acknowledged write; the others keep serving', async (t) => {
  const cluster = await startCluster();
  t.teardown(cluster.stop);
  const OPS = envInt('AKM_CLUSTER_OPS', 30);
  const victim = 2;
  let killed = false;
  const tally: Tally = { acknowledged: 0, survivorErrors: [] };
  const steady = await Promise.all(
    ['steady-1', 'steady-2'].map((name) => cluster.remote(0).createKey(keyInput({ name, roles: ['ReadOnly'] }))),
  );
  const rotating = await Promise.all(
    ['rot-1', 'rot-2'].map((name) => cluster.remote(1).createKey(keyInput({ name, roles: ['ReadOnly'] }))),
  );

  /** Run `op` on replica `i`; true when acknowledged. A refusal by a survivor after the kill is noted. */
  const attempt = async (i: number, what: string, op: () => Promise<unknown>): Promise<boolean> => {
    const killedBefore = killed;
    try {
      await op();
      tally.acknowledged += 1;
      return true;
    } catch (error) {
      if (i !== victim && killedBefore) tally.survivorErrors.push(`${what} on ${i}: ${(error as Error).message}`);
      return false;
    }
  };

  const created: string[] = [];
  const creator = async (w: number) => {
    for (let n = 0; n < OPS; n++) {
      const i = (w + n) % 3;
      let id = '';
      const ok = await attempt(i, 'create', async () => {
        id = (await cluster.remote(i).createKey(keyInput({ name: `w${w}-${n}` }))).accessKeyId;
      });
      if (ok) created.push(id);
    }
  };
  // Each rotator rotates its own key; the secret of its last acknowledged rotation is current
  // unless a later rotation was cut off with the replica (then it may have committed or not).
  const latest = new Map<string, { keyString: string; certain: boolean }>();
  const rotator = async (w: number) => {
    const key = rotating[w]!;
    latest.set(key.accessKeyId, { keyString: key.keyString, certain: true });
    for (let n = 0; n < OPS; n++) {
      const i = (w + n) % 3;
      let keyString = '';
      const ok = await attempt(i, 'rotate', async () => {
        keyString = (await cluster.remote(i).rotateKey(key.accessKeyId, 0)).keyString;
      });
      latest.set(
        key.accessKeyId,
        ok ? { keyString, certain: true } : { ...latest.get(key.accessKeyId)!, certain: false },
      );
    }
  };
  const verifier = async (w: number) => {
    for (let n = 0; n < OPS * 2; n++) {
      const i = (w + n) % 3;
      await attempt(i, 'verify', async () => {
        const reply = await postVerify(cluster.replicas[i]!.url, { keyString: steady[w]!.keyString });
        if (reply.status !== 200) throw new Error(`verify answered ${reply.status}`);
      });
    }
  };
  const killer = async () => {
    while (tally.acknowledged < OPS * 2) await new Promise((resolve) => setTimeout(resolve, 5));
    killed = true;
    await killHard(cluster.replicas[victim]!.child);
  };
  await Promise.all([creator(0), creator(1), rotator(0), rotator(1), verifier(0), verifier(1), killer()]);

  t.deepEqual(tally.survivorErrors, [], 'the other replicas served every request after the kill');
  const survivor = cluster.remote(0);
  for (const id of created) t.is((await survivor.showKey(id)).accessKeyId, id);
  for (const [id, { keyString, certain }] of latest) {
    if (!certain) continue;
    t.is((await postVerify(cluster.replicas[1]!.url, { keyString })).status, 200, `${id}: the last rotation holds`);
  }
  const audit = await survivor.verifyAudit();
  t.true(audit.ok, JSON.stringify(audit.problems));
  t.log(`${tally.acknowledged} operations acknowledged, ${created.length} keys created; replica ${victim} killed`);
});
