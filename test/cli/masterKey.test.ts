/** The master key from a file instead of the OS keychain (the keychain itself: test/e2e/keychain.test.ts). */
import test from 'ava';
import { statSync } from 'node:fs';
import { NO_KEYCHAIN } from '../helpers/akm.js';
import { Sandbox } from '../helpers/cli.js';

test('--master-key-file: created 0600 at init, remembered in the profile', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const file = `${box.home}/keys/master.key`;
  const env = { AKM_MASTER_KEY: undefined };
  const init = await box.akmJson(
    ['init', '--tenant', 'acme', '--admin', 'admin@acme.test', '--master-key-file', file],
    { env, keychain: NO_KEYCHAIN },
  );
  t.is(init.code, 0, init.stderr);
  t.is(init.value.masterKey, 'file');
  t.is(statSync(file).mode & 0o777, 0o600);
  const created = await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy'], {
    env,
    keychain: NO_KEYCHAIN,
  });
  t.is(created.code, 0, `the profile remembers the key file: ${created.stderr}`);
});
