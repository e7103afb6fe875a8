/**
 * A mistyped secret is rejected by its checksum before any lookup: verify must not even query
 * the keys table for it. The store is wrapped to record every statement run through it.
 */
import type { Queryable, Store } from '../../src/store/types.js';
import { verifyKey } from '../../src/service/local/verify.js';
import { perEngine } from '../helpers/engines.js';
import { tempStore } from '../helpers/store.js';
import { keyInput } from '../helpers/service.js';

function recording(store: Store): { store: Store; statements: string[] } {
  const statements: string[] = [];
  const wrap = (q: Queryable): Queryable => ({
    dialect: q.dialect,
    all: (sql, params) => (statements.push(sql), q.all(sql, params)),
    get: (sql, params) => (statements.push(sql), q.get(sql, params)),
    run: (sql, params) => (statements.push(sql), q.run(sql, params)),
  });
  const recorded: Store = {
    engine: store.engine,
    dialect: store.dialect,
    location: store.location,
    read: (work) => store.read((q) => work(wrap(q))),
    write: (tenantId, work, options) => store.write(tenantId, (q) => work(wrap(q)), options),
    changes: () => store.changes(),
    status: () => store.status(),
    ready: () => store.ready(),
    attachIntegrity: (key, check) => store.attachIntegrity(key, check),
    rotateKey: (check, work) => store.rotateKey(check, (q, rekey) => work(wrap(q), rekey)),
    keyReplaced: () => store.keyReplaced(),
    exposure: () => store.exposure(),
    close: () => store.close(),
  };
  return { store: recorded, statements };
}

perEngine(
  'verify looks nothing up for a secret that fails its checksum, and does for a well-formed one',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const service = await store.open();
    t.teardown(() => service.close());
    const key = await service.createKey(keyInput());
    await service.ctx.loadKeys(); // loaded before recording: only the verification's own queries count
    const s = key.secretKey;
    const typos = [
      s.slice(0, 10) + (s[10] === 'a' ? 'b' : 'a') + s.slice(11),
      s.slice(0, -1) + (s.endsWith('0') ? '1' : '0'),
      s.slice(0, 30) + s.slice(31),
      s.slice(0, 5) + s.slice(6, 7) + s.slice(5, 6) + s.slice(7),
    ].filter((typo) => typo !== s);
    for (const typo of typos) {
      const recorder = recording(service.ctx.store);
      const result = await verifyKey(
        { ...service.ctx, store: recorder.store },
        { accessKeyId: key.accessKeyId, secretKey: typo },
      );
      t.deepEqual(result, { valid: false });
      t.deepEqual(
        recorder.statements.filter((text) => /\bkeys\b/.test(text)),
        [],
        `no query on keys for ${typo.slice(0, 12)}…`,
      );
    }
    // Control: the recorder does see the lookup of a well-formed secret (right or wrong).
    const recorder = recording(service.ctx.store);
    t.true(
      (await verifyKey({ ...service.ctx, store: recorder.store }, { accessKeyId: key.accessKeyId, secretKey: s }))
        .valid,
    );
    t.true(recorder.statements.some((text) => /FROM keys/.test(text)));
    t.log(`${typos.length} one-character typos rejected with no lookup`);
  },
);
