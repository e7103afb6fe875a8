/** The real OS keychain (gnome-keyring's Secret Service under dbus-run-session) holds the master key. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { Sandbox } from '../helpers/cli.js';
import { secretToolLookup as lookup, storeIdOf as storeId } from '../helpers/secretService.js';
import { needing, SECRET_SERVICE } from '../helpers/services.js';

function keychainEnv(): NodeJS.ProcessEnv {
  return { AKM_MASTER_KEY: undefined, DBUS_SESSION_BUS_ADDRESS: process.env.DBUS_SESSION_BUS_ADDRESS };
}

needing(SECRET_SERVICE)('init puts a new master key in the keychain; later commands read it from there', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const env = keychainEnv();
  const init = await box.json(['init', '--tenant', 'acme', '--admin', 'admin@acme.test'], { env });
  t.is(init.code, 0, init.stderr);
  t.is(init.value.masterKey, 'keychain');

  const account = `master-key:${storeId(box.storePath)}`;
  const stored = lookup(account);
  t.is(Buffer.from(stored, 'base64').length, 32, 'a 32-byte key, readable by the Secret Service client');

  const created = await box.json(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy'], {
    env,
  });
  t.is(created.code, 0, created.stderr);
  t.is((await box.run(['verify'], { input: created.value.keyString, env })).code, 0);
  t.is(
    (await box.run(['verify'], { input: created.value.keyString, env: { AKM_MASTER_KEY: stored } })).code,
    0,
    'it is the same key',
  );

  // Without its keychain entry the store cannot be used: a clear exit 6, no garbage.
  spawnSync('secret-tool', ['clear', 'service', 'akm', 'username', account]);
  const lost = await box.run(['copy', 'svc', '--print'], { env });
  t.is(lost.code, 6);
  t.regex(lost.stderr, /master key for this store is not in the OS keychain/);
});

test('no Secret Service: init says how to go on without one (exit 6)', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const result = await box.run(['init', '--tenant', 'acme', '--admin', 'admin@acme.test'], {
    env: { AKM_MASTER_KEY: undefined, DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent/akm-test-bus' },
  });
  t.is(result.code, 6, result.stderr);
  t.regex(result.stderr, /no OS keychain can keep the master key of a new store here/);
  t.regex(result.stderr, /AKM_MASTER_KEY/);
  t.regex(result.stderr, /--master-key-file/);
});
