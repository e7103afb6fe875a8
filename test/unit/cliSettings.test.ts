import test from 'ava';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { maskPasted } from '../../src/cli/commands/login.js';
import { invocation, runnable, shellQuote } from '../../src/cli/nextSteps.js';
import { resolveSettings } from '../../src/cli/settings.js';
import { suggestTenantId } from '../../src/cli/wizards/init.js';
import { updateProfile } from '../../src/config/profiles.js';

function withProfile(t: import('ava').ExecutionContext, profile: Record<string, string>) {
  const home = mkdtempSync(join(tmpdir(), 'akm-settings-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_DATA_HOME: join(home, 'data') };
  updateProfile(env, 'default', profile);
  return env;
}

test('each setting: flag, then environment, then profile, then default — and where it came from', (t) => {
  const env = withProfile(t, { store: '/profile.db', tenant: 'acme', masterKeyFile: '/profile.key' });
  const s = resolveSettings({}, env);
  t.like(s, { store: '/profile.db', tenant: 'acme', masterKeyFile: '/profile.key' });
  t.deepEqual(s.origins, {
    profile: 'default',
    store: 'profile default',
    tenant: 'profile default',
    masterKey: 'profile default',
  });
  const fromEnv = resolveSettings({}, { ...env, AKM_TENANT: 'env-t', AKM_MASTER_KEY: 'x' });
  t.like(fromEnv, { tenant: 'env-t', masterKeyFile: undefined });
  t.like(fromEnv.origins, { tenant: 'env AKM_TENANT', masterKey: 'env AKM_MASTER_KEY' });
  const fromFlag = resolveSettings({ tenant: 'flag-t', masterKeyFile: '/flag.key' }, { ...env, AKM_TENANT: 'env-t' });
  t.like(fromFlag, { tenant: 'flag-t', masterKeyFile: '/flag.key' });
  t.like(fromFlag.origins, { tenant: 'flag --tenant', masterKey: 'flag --master-key-file' });
  // another store: the profile's tenant and key file are not its own
  const other = resolveSettings({ store: '/other.db' }, env);
  t.like(other, { store: '/other.db', tenant: undefined, masterKeyFile: undefined });
  t.like(resolveSettings({}, { ...env, AKM_STORE: '' }).origins, { store: 'profile default' }, 'empty means unset');
  t.like(resolveSettings({}, { ...env, AKM_PROFILE: 'ci' }).origins, { profile: 'env AKM_PROFILE', store: 'default' });
});

test('printed commands carry the flags that reached this store, quoted for a shell', (t) => {
  t.is(shellQuote('/srv/akm.db'), '/srv/akm.db');
  t.is(shellQuote("/my store/it's.db"), `'/my store/it'\\''s.db'`);
  const prefix = invocation({ store: '/a b.db', tenant: 'other', as: 'x@y.test', json: true });
  t.is(prefix, "akm --store '/a b.db' --tenant other");
  t.is(
    runnable('add them first: akm users add x@other.test; run akm on the machine', prefix, ['users', 'init']),
    "add them first: akm --store '/a b.db' --tenant other users add x@other.test; run akm on the machine",
  );
  t.is(runnable('run `akm init`', 'akm', ['init']), 'run `akm init`');
});

test('a tenant id suggested from the name; a random one when the name has no letters to use', (t) => {
  t.is(suggestTenantId('Acme Inc.'), 'acme-inc');
  t.is(suggestTenantId('  Ächme — Widgets  '), 'achme-widgets');
  t.is(suggestTenantId('A'.repeat(40)), 'a'.repeat(32));
  t.regex(suggestTenantId('日本'), /^t-[a-z2-7]{8}$/);
  t.regex(suggestTenantId(undefined), /^t-[a-z2-7]{8}$/);
});

test('a key string or a secret pasted at the access key id prompt shows as stars', (t) => {
  t.is(maskPasted('AKMEXAMPLE7Q2XK4ZL5P'), 'AKMEXAMPLE7Q2XK4ZL5P');
  t.is(maskPasted('key:AKMEXAMPLE7Q2XK4ZL5PA::akms_abc'), 'key:AKMEXAMPLE7Q2XK4ZL5PA::********');
  t.is(maskPasted('akms_secret'), '***********');
  t.is(maskPasted('key:AKM'), 'key:AKM');
});
