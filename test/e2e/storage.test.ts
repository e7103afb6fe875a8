/** The store on disk through the real binary, run as another user: folders and files it may not write to. */
import test from 'ava';
import { chmodSync, chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { Sandbox } from '../helpers/cli.js';

test('a read-only store folder: init and writes fail with exit 6, reads still work', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  // Permission bits do not bind root, so as root the commands run as "nobody".
  const asRoot = process.getuid?.() === 0;
  const ids = asRoot ? { uid: 65534, gid: 65534 } : {};
  if (asRoot) chownSync(box.home, 65534, 65534);
  chmodSync(box.home, 0o755);
  const folder = join(box.home, 'ro');
  mkdirSync(folder, { mode: 0o700 });
  if (asRoot) chownSync(folder, 65534, 65534);
  const store = join(folder, 'akm.db');

  chmodSync(folder, 0o500);
  const init = await box.run(['init', '--tenant', 'acme', '--admin', 'admin@acme.test', '--store', store], ids);
  t.is(init.code, 6, init.stderr);
  t.regex(init.stderr, /cannot create the store/);

  chmodSync(folder, 0o700);
  t.is((await box.run(['init', '--tenant', 'acme', '--admin', 'admin@acme.test', '--store', store], ids)).code, 0);
  chmodSync(folder, 0o500);
  chmodSync(store, 0o400);
  const create = await box.run(
    ['create', '--name', 'x', '--tenant-level', '--expires-in', '5', '--no-copy', '--store', store],
    ids,
  );
  t.is(create.code, 6, create.stderr);
  t.notRegex(create.stderr, /\n\s+at /);
  chmodSync(folder, 0o700);
  chmodSync(store, 0o600);
});
