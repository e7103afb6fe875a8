/**
 * A mistyped secret is rejected by its checksum before any lookup: verify must not even query
 * the keys table for it. The store connection is wrapped to record every statement prepared.
 */
import test from 'ava';
import type { Db } from '../../src/store/open.js';
import { verifyKey } from '../../src/service/local/verify.js';
import { tempStore } from '../helpers/store.js';
import { keyInput } from '../helpers/service.js';

function recording(db: Db): { db: Db; statements: string[] } {
  const statements: string[] = [];
  const proxy = new Proxy(db, {
    get(target, property) {
      if (property === 'prepare') {
        return (text: string) => {
          statements.push(text);
          return target.prepare(text);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
  return { db: proxy, statements };
}

test('verify looks nothing up for a secret that fails its checksum, and does for a well-formed one', async (t) => {
  const store = tempStore();
  t.teardown(store.cleanup);
  const service = store.open();
  t.teardown(() => service.close());
  const key = await service.createKey(keyInput());
  const s = key.secretKey;
  const typos = [
    s.slice(0, 10) + (s[10] === 'a' ? 'b' : 'a') + s.slice(11),
    s.slice(0, -1) + (s.endsWith('0') ? '1' : '0'),
    s.slice(0, 30) + s.slice(31),
    s.slice(0, 5) + s.slice(6, 7) + s.slice(5, 6) + s.slice(7),
  ].filter((typo) => typo !== s);
  for (const typo of typos) {
    const { db, statements } = recording(service.ctx.db);
    const result = verifyKey({ ...service.ctx, db }, { accessKeyId: key.accessKeyId, secretKey: typo });
    t.deepEqual(result, { valid: false });
    t.deepEqual(
      statements.filter((text) => /\bkeys\b/.test(text)),
      [],
      `no query on keys for ${typo.slice(0, 12)}…`,
    );
  }
  // Control: the recorder does see the lookup of a well-formed secret (right or wrong).
  const { db, statements } = recording(service.ctx.db);
  t.true(verifyKey({ ...service.ctx, db }, { accessKeyId: key.accessKeyId, secretKey: s }).valid);
  t.true(statements.some((text) => /FROM keys/.test(text)));
  t.log(`${typos.length} one-character typos rejected with no lookup`);
});
