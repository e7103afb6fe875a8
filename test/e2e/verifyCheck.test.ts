/**
 * `akm verify` on a local store is an administrator's check, not a use of the key: it writes
 * nothing (no "last used"), so it works on a store the operator may only read; `--explain`
 * says why a key is not valid, while the plain answer stays the same for every failure.
 */
import test from 'ava';
import { chmodSync, chownSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/cli.js';

const isRoot = process.getuid?.() === 0;
const NOBODY = 65534;

/** Root ignores permission bits: the read-only runs go as nobody, who owns the sandbox. */
function giveAway(path: string): void {
  if (!isRoot) return;
  chownSync(path, NOBODY, NOBODY);
  if (statSync(path).isDirectory()) for (const entry of readdirSync(path)) giveAway(join(path, entry));
}

test('a local verify changes nothing: no "last used", and it works on a read-only store file', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => {
    chmodSync(box.storePath, 0o600);
    box.cleanup();
  });
  const key = (await box.json(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy'])).value;
  t.is((await box.run(['verify'], { input: key.keyString })).code, 0);
  t.is((await box.json(['show', 'svc'])).value.lastUsedAt, null, 'a check is not a use');

  giveAway(box.home);
  chmodSync(box.storePath, 0o444);
  const before = readFileSync(box.storePath);
  const as = isRoot ? { uid: NOBODY, gid: NOBODY } : {};
  const checked = await box.run(['verify'], { input: key.keyString, ...as });
  t.is(checked.code, 0, checked.stderr);
  t.regex(checked.stdout, /valid\s+yes/);
  const bad = await box.run(['verify'], { input: key.keyString.replace(/.(?=,tenant id)/, 'x'), ...as });
  t.is(bad.code, 2, 'a mistyped secret fails its checksum before any lookup');
  const listed = await box.run(['list', '--json'], as);
  t.is(listed.code, 0, listed.stderr);
  t.is(JSON.parse(listed.stdout).length, 1);
  const write = await box.run(['users', 'add', 'x@acme.test'], as);
  t.is(write.code, 6, 'a change still needs a writable store');
  t.regex(write.stderr, /cannot write to the store/);
  t.deepEqual(readFileSync(box.storePath), before, 'the store file is byte for byte unchanged');
});

test('verify --explain tells an administrator why: unknown, wrong or old secret, inactive, expired', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const create = async (name: string) =>
    (await box.json(['create', '--name', name, '--tenant-level', '--expires-in', '5', '--no-copy'])).value;
  const good = await create('good');
  const off = await create('off');
  await box.run(['deactivate', 'off']);
  const rotated = await create('rotated');
  await box.run(['rotate', 'rotated', '--yes', '--no-copy']);
  const other = await create('other');
  const soon = new Date(Date.now() + 2000).toISOString();
  const brief = (await box.json(['create', '--name', 'brief', '--tenant-level', '--expires-on', soon, '--no-copy']))
    .value;

  const explain = async (keyString: string) => {
    const result = await box.run(['verify', '--explain', '--json'], { input: keyString });
    return { code: result.code, kinds: JSON.parse(result.stdout).problems.map((p: { kind: string }) => p.kind) };
  };
  t.deepEqual(await explain(good.keyString), { code: 0, kinds: [] });
  t.deepEqual(await explain(off.keyString), { code: 5, kinds: ['inactive'] });
  t.deepEqual(await explain(rotated.keyString), { code: 5, kinds: ['old_secret'] });
  const swapped = `key:${good.accessKeyId}::${other.secretKey},tenant id:acme`;
  t.deepEqual(await explain(swapped), { code: 5, kinds: ['wrong_secret'] });
  const unknown = good.keyString.replace(good.accessKeyId, 'AKMAAAAAAAAAAAAAAAAA');
  t.deepEqual(await explain(unknown), { code: 5, kinds: ['unknown'] });
  while (Date.now() <= Date.parse(brief.expiresAt)) await new Promise((r) => setTimeout(r, 100));
  t.deepEqual(await explain(brief.keyString), { code: 5, kinds: ['expired'] });

  const human = await box.run(['verify', '--explain'], { input: off.keyString });
  t.is(human.code, 5);
  t.regex(human.stdout, /valid\s+no/);
  t.regex(human.stdout, /problem\s+inactive: last changed by admin@acme\.test/);
  t.regex(human.stderr, /^error: not valid: inactive$/m);

  // Without --explain every failure reads the same.
  for (const keyString of [off.keyString, rotated.keyString, swapped, unknown, brief.keyString]) {
    const plain = await box.run(['verify'], { input: keyString });
    t.is(plain.code, 5);
    t.is(plain.stderr, 'error: not valid: unknown, inactive or expired key, or wrong secret\n');
  }
});
