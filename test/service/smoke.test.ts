import { perEngine } from '../helpers/engines.js';
import { tempStore } from '../helpers/store.js';

perEngine('create, list and verify a key on a real store', async (t, engine) => {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const service = await store.open();
  const key = await service.createKey({
    name: 'ci',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: ['ReadOnly'],
  });
  t.regex(key.accessKeyId, /^AKM[A-Z2-7]{17}$/);
  const page = await service.listKeys({});
  t.is(page.items.length, 1);
  t.deepEqual(page.items[0]!.roles, ['ReadOnly']);
  const ok = await service.verifyKey({ accessKeyId: key.accessKeyId, secretKey: key.secretKey });
  t.true(ok.valid);
  await service.close();
});
