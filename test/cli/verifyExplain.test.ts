/** verify --explain: why a key is not valid, for an administrator of a local store; without it, one answer for all. */
import test from 'ava';
import { Sandbox } from '../helpers/cli.js';

test('verify --explain tells an administrator why: unknown, wrong or old secret, inactive, expired', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const create = async (name: string) =>
    (await box.akmJson(['create', '--name', name, '--tenant-level', '--expires-in', '5', '--no-copy'])).value;
  const good = await create('good');
  const off = await create('off');
  await box.akm(['deactivate', 'off']);
  const rotated = await create('rotated');
  await box.akm(['rotate', 'rotated', '--yes', '--no-copy']);
  const other = await create('other');
  const brief = await create('brief');

  const explain = async (keyString: string, now?: () => Date) => {
    const result = await box.akm(['verify', '--explain', '--json'], { input: keyString, now });
    return { code: result.code, kinds: JSON.parse(result.stdout).problems.map((p: { kind: string }) => p.kind) };
  };
  t.deepEqual(await explain(good.keyString), { code: 0, kinds: [] });
  t.deepEqual(await explain(off.keyString), { code: 5, kinds: ['inactive'] });
  t.deepEqual(await explain(rotated.keyString), { code: 5, kinds: ['old_secret'] });
  const swapped = `key:${good.accessKeyId}::${other.secretKey},tenant id:acme`;
  t.deepEqual(await explain(swapped), { code: 5, kinds: ['wrong_secret'] });
  const unknown = good.keyString.replace(good.accessKeyId, 'AKMAAAAAAAAAAAAAAAAA');
  t.deepEqual(await explain(unknown), { code: 5, kinds: ['unknown'] });
  // A clock six days on, past the 5-day expiry: no waiting for it.
  const later = () => new Date(Date.now() + 6 * 86_400_000);
  t.deepEqual(await explain(brief.keyString, later), { code: 5, kinds: ['expired'] });

  const human = await box.akm(['verify', '--explain'], { input: off.keyString });
  t.is(human.code, 5);
  t.regex(human.stdout, /valid\s+no/);
  t.regex(human.stdout, /problem\s+inactive: last changed by admin@acme\.test/);
  t.regex(human.stderr, /^error: not valid: inactive$/m);

  // Without --explain every failure reads the same.
  for (const [keyString, now] of [
    [off.keyString],
    [rotated.keyString],
    [swapped],
    [unknown],
    [brief.keyString, later],
  ] as Array<[string, (() => Date)?]>) {
    const plain = await box.akm(['verify'], { input: keyString, now });
    t.is(plain.code, 5);
    t.is(plain.stderr, 'error: not valid: unknown, inactive or expired key, or wrong secret\n');
  }
});
