/** Where the remote client finds its key: env pair, AKM_CREDENTIALS, insecure file, keychain; clear errors otherwise. */
import test from 'ava';
import { chmodSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateAccessKeyId, generateSecretKey } from '../../src/core/credentials.js';
import { UnavailableError } from '../../src/core/errors.js';
import { formatKeyString } from '../../src/core/keyString.js';
import type { Keychain } from '../../src/keychain/keychain.js';
import {
  forgetCredentials,
  insecureFilePath,
  keychainAccount,
  resolveCredentials,
  storeInFile,
  storeInKeychain,
  type CredentialContext,
} from '../../src/remote/credentials.js';

class MemoryKeychain implements Keychain {
  readonly entries = new Map<string, string>();
  get(account: string) {
    return this.entries.get(account) ?? null;
  }
  set(account: string, secret: string) {
    this.entries.set(account, secret);
  }
  delete(account: string) {
    return this.entries.delete(account);
  }
}

const noKeychain = (): Keychain => {
  throw new UnavailableError('the OS keychain is not available (no D-Bus)', { code: 'keychain_unavailable' });
};

const id = generateAccessKeyId();
const secret = generateSecretKey();

function ctx(over: Partial<CredentialContext> = {}): CredentialContext & { warnings: string[] } {
  const warnings: string[] = [];
  return {
    url: 'https://akm.test',
    profileName: 'default',
    profile: {},
    env: {},
    keychain: () => new MemoryKeychain(),
    warn: (w) => warnings.push(w),
    warnings,
    ...over,
  };
}

test('environment first: the pair, then AKM_CREDENTIALS', (t) => {
  const pair = resolveCredentials(
    ctx({ env: { AKM_ACCESS_KEY_ID: id, AKM_SECRET_ACCESS_KEY: secret, AKM_CREDENTIALS: 'ignored' } }),
  );
  t.like(pair, {
    accessKeyId: id,
    secretAccessKey: secret,
    source: 'environment (AKM_ACCESS_KEY_ID, AKM_SECRET_ACCESS_KEY)',
  });
  const string = resolveCredentials(ctx({ env: { AKM_CREDENTIALS: formatKeyString(id, secret, 'acme') } }));
  t.like(string, {
    accessKeyId: id,
    secretAccessKey: secret,
    tenantId: 'acme',
    source: 'environment (AKM_CREDENTIALS)',
  });
});

test('half a pair, a malformed secret or an encrypted key string: usage errors that never echo the secret', (t) => {
  const half = t.throws(() => resolveCredentials(ctx({ env: { AKM_ACCESS_KEY_ID: id } })), {
    code: 'credentials_incomplete',
  });
  t.regex(half.message, /AKM_SECRET_ACCESS_KEY/);
  const typo = `${secret.slice(0, -1)}${secret.endsWith('A') ? 'B' : 'A'}`;
  const bad = t.throws(() => resolveCredentials(ctx({ env: { AKM_ACCESS_KEY_ID: id, AKM_SECRET_ACCESS_KEY: typo } })), {
    code: 'credentials_invalid',
  });
  t.false(bad.message.includes(typo));
  t.throws(() => resolveCredentials(ctx({ env: { AKM_CREDENTIALS: `key:${id}::akmenc1_AAAA,tenant id:acme` } })), {
    code: 'credentials_invalid',
  });
});

test('the keychain entry of the profile, stored as a key string', (t) => {
  const keychain = new MemoryKeychain();
  storeInKeychain(keychain, 'prod', { accessKeyId: id, secretAccessKey: secret, tenantId: 'acme' });
  t.is(keychain.get(keychainAccount('prod')), formatKeyString(id, secret, 'acme'));
  const found = resolveCredentials(ctx({ profileName: 'prod', keychain: () => keychain }));
  t.like(found, { accessKeyId: id, tenantId: 'acme', source: 'OS keychain (profile prod)' });
  t.deepEqual(
    forgetCredentials(() => keychain, 'prod', {}),
    ['OS keychain'],
  );
  t.throws(() => resolveCredentials(ctx({ profileName: 'prod', keychain: () => keychain })), { code: 'not_logged_in' });
});

test('nothing anywhere: not logged in (exit 5); no keychain and no env: a clear exit 6 naming the way out', (t) => {
  const none = t.throws(() => resolveCredentials(ctx()), { code: 'not_logged_in' });
  t.is((none as { exitCode?: number }).exitCode, 5);
  t.regex((none as { hint?: string }).hint!, /akm login https:\/\/akm.test/);
  const noChain = t.throws(() => resolveCredentials(ctx({ keychain: noKeychain })), { code: 'no_credentials' });
  t.is((noChain as { exitCode?: number }).exitCode, 6);
  t.regex((noChain as { hint?: string }).hint!, /AKM_ACCESS_KEY_ID/);
});

test('--insecure-storage: a 0600 file, a warning on every use, refused when others can read it', (t) => {
  const home = mkdtempSync(join(tmpdir(), 'akm-cred-'));
  t.teardown(() => rmSync(home, { recursive: true, force: true }));
  const env = { XDG_CONFIG_HOME: join(home, 'config') };
  const file = insecureFilePath(env, 'default');
  storeInFile(file, { accessKeyId: id, secretAccessKey: secret, tenantId: 'acme' });
  t.is(statSync(file).mode & 0o777, 0o600);
  const c = ctx({ env, profile: { credentialsFile: file }, keychain: noKeychain });
  t.like(resolveCredentials(c), { accessKeyId: id, source: `file ${file} (insecure storage)` });
  resolveCredentials(c);
  t.is(c.warnings.length, 2);
  t.regex(c.warnings[0]!, /plaintext/);
  chmodSync(file, 0o644);
  t.throws(() => resolveCredentials(c), { code: 'credentials_exposed' });
  t.deepEqual(forgetCredentials(noKeychain, 'default', { credentialsFile: file }), [`file ${file}`]);
});
