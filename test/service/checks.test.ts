/**
 * The service side of the local checks: `explainVerification` (administrators only, and
 * another tenant's key is as unknown as a missing one), the owner a key gets when the caller
 * does not say, and `--as` (only an administrator of the tenant can be named).
 */
import { perEngine } from '../helpers/engines.js';
import { DeniedError, UsageError } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import { actingAs } from '../helpers/acting.js';
import { keyInput, refusal } from '../helpers/service.js';
import { tempStore, twoTenants } from '../helpers/store.js';

perEngine('explain: administrators only; another tenant\'s key is "unknown", nothing more', async (t, engine) => {
  const { acme, globex } = await twoTenants(t, engine);
  const theirs = await globex.createKey(keyInput({ name: 'theirs' }));
  await globex.setKeyStatus(theirs.accessKeyId, 'inactive');
  const input = { accessKeyId: theirs.accessKeyId, secretKey: theirs.secretKey };
  t.deepEqual(await acme.explainVerification(input), {
    valid: false,
    accessKeyId: theirs.accessKeyId,
    problems: [{ kind: 'unknown', message: `unknown: no key ${theirs.accessKeyId} in tenant acme` }],
  });
  t.deepEqual(
    (await globex.explainVerification(input)).problems.map((p) => p.kind),
    ['inactive'],
  );

  await acme.addUser('kim@acme.test', 'Kim');
  const kim = await actingAs(acme, 'kim@acme.test', ['KeyManager']);
  const own = await acme.createKey(keyInput({ name: 'kims', owner: 'kim@acme.test' }));
  await refusal(t, () => kim.explainVerification({ accessKeyId: own.accessKeyId, secretKey: own.secretKey }), {
    instanceOf: DeniedError,
    exitCode: 5,
    code: 'permission_denied',
  });
});

perEngine(
  'without an owner: a user who is not an administrator owns the key; anyone else must say',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const admin = await store.open();
    t.teardown(() => admin.close());
    await admin.addUser('kim@acme.test', 'Kim');
    const kim = await actingAs(admin, 'kim@acme.test', ['KeyManager']);
    const { owner, ...undecided } = keyInput({ name: 'mine' });
    t.is(owner, null);
    t.is((await kim.createKey(undecided)).owner, 'kim@acme.test');
    for (const someone of [admin, await actingAs(admin, null, ['KeyManager'])])
      await refusal(t, () => someone.createKey({ ...undecided, name: 'whose' }), {
        instanceOf: UsageError,
        exitCode: 2,
        code: 'missing_flag',
      });
  },
);

perEngine(
  '--as: an administrator of the tenant acts; a user who is not one, or nobody, is refused',
  async (t, engine) => {
    const store = await tempStore(engine);
    t.teardown(store.cleanup);
    const admin = await store.open();
    await admin.addUser('bob@acme.test', 'Bob');
    await admin.addUser('kim@acme.test', 'Kim');
    await admin.addGroupMember('Administrators', 'bob@acme.test');
    await admin.close();
    const open = (actAs: string) =>
      LocalService.open({ store: store.location, masterKey: store.masterKeyOptions, actAs });
    const bob = await open('bob@acme.test');
    t.teardown(() => bob.close());
    t.like(await bob.whoami(), { actor: 'bob@acme.test', admin: true });
    t.is((await bob.createKey(keyInput({ name: 'by-bob' }))).createdBy, 'bob@acme.test');
    for (const who of ['kim@acme.test', 'nobody@acme.test', 'admin@globex.test']) {
      const error = await t.throwsAsync(() => open(who), { instanceOf: DeniedError });
      t.is(error?.exitCode, 5, who);
    }
  },
);
