/** Listing pages through the store: filters, keyset paging over thousands of keys, cursors. */
import { perEngine } from '../helpers/engines.js';
import { NotFoundError, UsageError } from '../../src/core/errors.js';
import type { KeyFilter, KeyView } from '../../src/service/types.js';
import type { LocalService } from '../../src/service/local/service.js';
import { tempStore } from '../helpers/store.js';
import { Clock, createMany, DAY, keyInput, refusal } from '../helpers/service.js';

async function listAll(
  service: LocalService,
  filter: KeyFilter,
  limit?: number,
): Promise<{ items: KeyView[]; pages: number }> {
  const items: KeyView[] = [];
  let after: string | undefined;
  let pages = 0;
  do {
    const page = await service.listKeys(filter, { after, limit });
    pages++;
    items.push(...page.items);
    after = page.next;
    if (pages > 10_000) throw new Error('paging does not end');
  } while (after);
  return { items, pages };
}

const TOTAL = 2345;

perEngine(
  'paging over more than 1000 keys returns every key once, in creation order; filters narrow it',
  async (t, engine) => {
    const clock = new Clock();
    const store = await tempStore(engine);
    const service = await store.open(clock.now);
    t.teardown(async () => {
      await service.close();
      await store.cleanup();
    });
    await service.addUser('dev@acme.test', 'Dev');
    const started = Date.now();
    // Half the keys share one creation instant: the (created_at, id) cursor must still split pages exactly.
    const created = await createMany(service, TOTAL, (i) => {
      if (i % 2 === 0) clock.advance(1000);
      return keyInput({
        name: `key-${i}`,
        type: i % 5 === 0 ? 'api' : 'access',
        expiry: i % 7 === 0 ? { kind: 'never' } : { kind: 'days', days: 1 + (i % 60) },
      });
    });
    const owned = await service.createKey(
      keyInput({ name: 'mine', owner: 'dev@acme.test', expiry: { kind: 'days', days: 3 } }),
    );
    t.log(`seeded ${TOTAL + 1} keys in ${Date.now() - started} ms`);
    for (const i of [1, 2, 3]) await service.setKeyStatus(created[i]!.accessKeyId, 'inactive');

    const all = await listAll(service, {});
    t.is(all.items.length, TOTAL + 1);
    t.is(new Set(all.items.map((k) => k.accessKeyId)).size, TOTAL + 1, 'no key twice');
    t.is(all.pages, Math.ceil((TOTAL + 1) / 1000) + ((TOTAL + 1) % 1000 === 0 ? 1 : 0));
    const order = all.items.map((k) => `${k.createdAt} ${k.accessKeyId}`);
    t.deepEqual(order, [...order].sort(), 'creation order, then id');

    const small = await listAll(service, {}, 97);
    t.deepEqual(
      small.items.map((k) => k.accessKeyId),
      all.items.map((k) => k.accessKeyId),
      'any page size yields the same sequence',
    );
    t.log(`listed ${all.items.length} keys in ${all.pages} pages of ≤1000, and in ${small.pages} pages of 97`);

    const api = await listAll(service, { type: 'api' });
    t.is(api.items.length, Math.ceil(TOTAL / 5));
    t.true(api.items.every((k) => k.type === 'api'));

    t.deepEqual(
      (await listAll(service, { owner: 'dev@acme.test' })).items.map((k) => k.accessKeyId),
      [owned.accessKeyId],
    );
    t.deepEqual(
      (await listAll(service, { status: 'inactive' })).items.map((k) => k.accessKeyId).sort(),
      [1, 2, 3].map((i) => created[i]!.accessKeyId).sort(),
    );

    // Move the clock: keys made with 1..60 days expire at different moments.
    const now = clock.now().getTime();
    clock.advance(10 * DAY);
    const expired = await listAll(service, { status: 'expired' });
    const expectExpired = [...created, owned].filter(
      (k) => k.expiresAt !== null && Date.parse(k.expiresAt) <= now + 10 * DAY,
    );
    t.is(expired.items.length, expectExpired.length);
    t.true(expired.items.every((k) => k.status === 'expired'));
    const active = await listAll(service, { status: 'active' });
    const inactive = new Set([1, 2, 3].map((i) => created[i]!.accessKeyId));
    const expiredIds = new Set(expectExpired.map((k) => k.accessKeyId));
    const expectActive = [...created, owned].filter(
      (k) => !expiredIds.has(k.accessKeyId) && !inactive.has(k.accessKeyId),
    );
    t.deepEqual(active.items.map((k) => k.accessKeyId).sort(), expectActive.map((k) => k.accessKeyId).sort());

    const within = await listAll(service, { expiringWithinDays: 7 });
    const soon = [...created, owned].filter(
      (k) =>
        k.expiresAt !== null && Date.parse(k.expiresAt) > now + 10 * DAY && Date.parse(k.expiresAt) <= now + 17 * DAY,
    );
    t.deepEqual(within.items.map((k) => k.accessKeyId).sort(), soon.map((k) => k.accessKeyId).sort());
    t.true(soon.length > 0);
  },
);

perEngine('a forged or garbled cursor is a usage error; an unknown owner is not found', async (t, engine) => {
  const store = await tempStore(engine);
  const service = await store.open();
  t.teardown(async () => {
    await service.close();
    await store.cleanup();
  });
  for (const after of [
    'not-a-cursor',
    Buffer.from('{"a":1}').toString('base64url'),
    Buffer.from('[1,2]').toString('base64url'),
  ]) {
    await refusal(t, () => service.listKeys({}, { after }), { instanceOf: UsageError, exitCode: 2 });
  }
  await refusal(t, () => service.listKeys({ owner: 'nobody@acme.test' }), { instanceOf: NotFoundError, exitCode: 3 });
  await refusal(t, () => service.listKeys({ owner: 'not an email' }), { instanceOf: UsageError, exitCode: 2 });
});
