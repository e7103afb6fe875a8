/**
 * Who acts on a shared local store: the operator named at init, or with `--as EMAIL` another
 * administrator of the tenant — recorded with the OS user that ran akm. Naming anyone else is
 * refused (exit 5) and changes nothing.
 */
import test from 'ava';
import { hostname, userInfo } from 'node:os';
import { Sandbox } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

test('--as names the acting administrator; the audit trail shows them and the OS user', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  for (const user of ['bob@acme.test', 'carol@acme.test']) await box.akm(['users', 'add', user]);
  await box.akm(['groups', 'add-member', 'Administrators', 'bob@acme.test']);

  const created = await box.akmJson([
    '--as',
    'bob@acme.test',
    'create',
    '--name',
    'k',
    '--tenant-level',
    '--expires-in',
    '5',
  ]);
  t.is(created.code, 0, created.stderr);
  t.is(created.value.createdBy, 'bob@acme.test');
  t.like((await box.akmJson(['--as', 'BOB@acme.test', 'whoami'])).value, { actor: 'bob@acme.test', admin: true });

  const [record] = (await box.akmJson(['audit', '--limit', '1'])).value;
  t.like(record, { actor: 'bob@acme.test', action: 'key.create', source: `cli:${userInfo().username}@${hostname()}` });
  const table = await box.akm(['audit', '--limit', '1']);
  t.regex(table.stdout, /^SEQ\s+WHEN\s+ACTOR\s+ACTION\s+TARGET\s+DETAILS\s+FROM$/m);
  t.true(table.stdout.includes(`bob@acme.test`) && table.stdout.includes(`${userInfo().username}@${hostname()}`));

  // the operator named at init is told of bob's change; bob, who made it, is not
  const inbox = (await box.akmJson(['notifications'])).value;
  t.regex(inbox.items[0].message, /^bob@acme\.test created the tenant-level key "k"/);
  t.deepEqual((await box.akmJson(['--as', 'bob@acme.test', 'notifications'])).value.items, []);
});

test('--as anyone but an administrator of the tenant is refused with exit 5, and changes nothing', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['users', 'add', 'carol@acme.test']);
  const before = snapshot(box.storePath);
  for (const who of ['carol@acme.test', 'ghost@acme.test']) {
    const refused = await box.akm(['--as', who, 'create', '--name', 'k', '--tenant-level', '--expires-in', '5']);
    t.is(refused.code, 5, refused.stderr);
    t.regex(
      refused.stderr,
      new RegExp(`^error: --as ${who.replace('.', '\\.')}: not an administrator of tenant acme$`, 'm'),
    );
    t.regex(refused.stderr, /^hint: an administrator can make them one: akm groups add-member Administrators /m);
  }
  const malformed = await box.akm(['--as', 'not an email', 'list']);
  t.is(malformed.code, 2);
  t.is(snapshot(box.storePath), before);
});
