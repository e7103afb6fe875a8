/**
 * `akm verify` on a local store is an administrator's check, not a use of the key: it writes
 * nothing (no "last used"), so it works, through the real binary run as another user, on a
 * store the operator may only read. (`--explain`: test/cli/verifyExplain.test.ts.)
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
