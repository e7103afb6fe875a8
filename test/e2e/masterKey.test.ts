/**
 * The master key commands as the real binary runs them: in a real pseudo-terminal (tmux) where a
 * person confirms or declines, with a key file, and with the real OS keychain (gnome-keyring's
 * Secret Service).
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, Sandbox } from '../helpers/cli.js';
import { secretToolLookup as lookup, storeIdOf as storeId } from '../helpers/secretService.js';
import { needing, SECRET_SERVICE, TMUX } from '../helpers/services.js';
import { TmuxSession } from '../helpers/tmux.js';

const readKey = (file: string) => readFileSync(file, 'utf8').trim();

needing(TMUX)('at a terminal, rotate asks first (default No) and export asks before it writes', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const file = join(box.home, 'master.key');
  const noKey = { AKM_MASTER_KEY: undefined };
  t.is(
    (await box.run(['init', '--tenant', 'acme', '--admin', 'a@acme.test', '--master-key-file', file], { env: noKey }))
      .code,
    0,
  );
  const old = readKey(file);
  const terminal = (args: string[]) =>
    new TmuxSession(box.home, box.env({ ...noKey, CI: undefined, TERM: 'xterm-256color' }), [
      process.execPath,
      BIN,
      ...args,
    ]);

  const declined = terminal(['master-key', 'rotate']);
  t.teardown(() => declined.kill());
  await declined.waitFor(/Replace the master key of this store\? It re-seals 0 secrets[\s\S]*\(y\/N\)/);
  declined.keys('Enter');
  t.is(await declined.exitCode(), 130, declined.screen());
  t.regex(declined.screen(), /not rotated/);
  t.is(readKey(file), old);

  const rotated = terminal(['master-key', 'rotate']);
  t.teardown(() => rotated.kill());
  await rotated.waitFor(/Replace the master key of this store\?/);
  rotated.type('y');
  rotated.keys('Enter');
  t.is(await rotated.exitCode(), 0, rotated.screen());
  t.regex(rotated.screen(), /✓ master key rotated/);
  t.not(readKey(file), old);

  const backup = join(box.home, 'backup.key');
  const exported = terminal(['master-key', 'export', '--to', backup]);
  t.teardown(() => exported.kill());
  await exported.waitFor(/Write the master key of this store to .*backup\.key\? Whoever reads that file/);
  t.false(existsSync(backup), 'nothing written before the answer');
  exported.type('y');
  exported.keys('Enter');
  t.is(await exported.exitCode(), 0, exported.screen());
  t.is(readKey(backup), readKey(file));
  t.is(statSync(backup).mode & 0o777, 0o600, 'owner-only, whatever the umask');
});

needing(SECRET_SERVICE)('with the real keychain: rotate replaces the entry, leaves nothing beside it', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const env = { AKM_MASTER_KEY: undefined, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS };
  const init = await box.run(['init', '--tenant', 'acme', '--admin', 'a@acme.test'], { env });
  t.is(init.code, 0, init.stderr);
  t.regex(init.stderr, /master key of this store is in the OS keychain of this machine, and nowhere else/);
  const id = storeId(box.storePath);
  const old = lookup(`master-key:${id}`);
  const key = await box.json(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy'], { env });

  const rotated = await box.json(['master-key', 'rotate', '--yes'], { env });
  t.is(rotated.code, 0, rotated.stderr);
  t.is(rotated.value.newKey, 'the OS keychain');
  const now = lookup(`master-key:${id}`);
  t.is(Buffer.from(now, 'base64').length, 32);
  t.not(now, old);
  t.is(lookup(`master-key-next:${id}`), '', 'the entry used during the rotation is gone');

  t.is((await box.run(['verify'], { env, input: key.value.keyString })).code, 0);
  const stale = await box.run(['verify'], { env: { AKM_MASTER_KEY: old }, input: key.value.keyString });
  t.is(stale.code, 6);
  t.regex(stale.stderr, /new key put in the OS keychain/);
  spawnSync('secret-tool', ['clear', 'service', 'akm', 'username', `master-key:${id}`]);
});
