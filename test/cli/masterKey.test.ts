/**
 * The master key at the command line: from a file instead of the OS keychain, what `init` says
 * about it (once), `akm master-key export` and `akm master-key rotate` with each place the key can
 * live (a file, AKM_MASTER_KEY, the keychain). The real keychain and the real binary:
 * test/e2e/masterKey.test.ts; the rotation itself on both engines: test/service/masterKey*.test.ts.
 */
import test from 'ava';
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Keychain } from '../../src/keychain/keychain.js';
import { ENTER, MemoryKeychain, NO_KEYCHAIN, scripted } from '../helpers/akm.js';
import { Sandbox } from '../helpers/cli.js';
import { serverFixture } from '../helpers/server.js';

const readKey = (file: string) => readFileSync(file, 'utf8').trim();
/** A person at a terminal (prompts are answered from `answers`). */
const atTerminal = { tty: true as const, env: { CI: undefined } };

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

test('init says once where the master key is and that losing it loses the store; its export command works as printed', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const keychain = new MemoryKeychain();
  const env = { AKM_MASTER_KEY: undefined };
  const first = await box.akm(['init', '--tenant', 'acme', '--admin', 'admin@acme.test'], { env, keychain });
  t.is(first.code, 0, first.stderr);
  t.regex(first.stderr, /master key of this store is in the OS keychain of this machine, and nowhere else/);
  t.regex(first.stderr, /Without it nobody can read the store/);
  t.is(first.stderr.match(/master key of this store/g)?.length, 1, 'said once');
  const line = /^ {4}(akm master-key export --to \S+)$/m.exec(first.stderr)?.[1];
  t.truthy(line, first.stderr);

  const second = await box.akm(['init', '--tenant', 'other', '--admin', 'o@other.test'], { env, keychain });
  t.is(second.code, 0, second.stderr);
  t.notRegex(second.stderr, /master key of this store/, 'not again for a second tenant of the same store');

  // As printed, by a person at a terminal who confirms.
  const answers = scripted([/Write the master key of this store to .*\? Whoever reads that file/, true]);
  const exported = await box.akm(line!.split(' ').slice(1), {
    ...atTerminal,
    env: { ...env, CI: undefined },
    keychain,
    answers,
  });
  t.is(exported.code, 0, exported.stderr);
  const file = line!.split(' ').at(-1)!;
  t.is(statSync(file).mode & 0o777, 0o600);
  t.is([...keychain.entries.values()][0], readKey(file), 'the file holds the key in the keychain');
  const withFile = await box.akm(['audit', 'verify'], {
    env: { AKM_MASTER_KEY: readKey(file) },
    keychain: NO_KEYCHAIN,
  });
  t.is(withFile.code, 0, `the exported key opens the store: ${withFile.stderr}`);

  const inFile = new Sandbox();
  t.teardown(() => inFile.cleanup());
  const keyFile = join(inFile.home, 'master.key');
  const init = await inFile.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test', '--master-key-file', keyFile], {
    env,
  });
  t.regex(init.stderr, new RegExp(`master key of this store is in the file ${keyFile.replace(/[/.]/g, '\\$&')}`));
  const fromEnv = new Sandbox();
  t.teardown(() => fromEnv.cleanup());
  const envInit = await fromEnv.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test']);
  t.regex(envInit.stderr, /master key of this store is in AKM_MASTER_KEY: akm keeps no copy of it/);
});

test('master-key export: asks first, --yes without a terminal, never overwrites, audited without the key', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const file = join(box.home, 'backup.key');

  const unattended = await box.akm(['master-key', 'export', '--to', file]);
  t.is(unattended.code, 2);
  t.regex(unattended.stderr, /missing --yes/);
  t.false(existsSync(file));

  const declined = await box.akm(['master-key', 'export', '--to', file], {
    ...atTerminal,
    answers: scripted([/Write the master key/, false]),
  });
  t.is(declined.code, 130);
  t.regex(declined.stderr, /not exported/);
  t.false(existsSync(file));

  const done = await box.akmJson(['master-key', 'export', '--to', file, '--yes']);
  t.is(done.code, 0, done.stderr);
  t.deepEqual(done.value, { dryRun: false, file, source: 'env' });
  t.is(readKey(file), box.masterKey);
  t.is(statSync(file).mode & 0o777, 0o600);

  writeFileSync(file, 'precious\n', { mode: 0o600 });
  const again = await box.akm(['master-key', 'export', '--to', file, '--yes']);
  t.is(again.code, 4);
  t.regex(again.stderr, /already exists; akm never overwrites a key file/);
  t.is(readFileSync(file, 'utf8'), 'precious\n');
  const nowhere = await box.akm(['master-key', 'export', '--to', join(box.home, 'no', 'such', 'dir', 'k'), '--yes']);
  t.is(nowhere.code, 2, nowhere.stderr);

  const audit = await box.akmJson(['audit', '--limit', '1000']);
  const exports = audit.value.filter((r: { action: string }) => r.action === 'master-key.export');
  t.is(exports.length, 1);
  t.like(exports[0].details, { file, from: 'AKM_MASTER_KEY' });
  t.false(JSON.stringify(audit.value).includes(box.masterKey));
});

test('master-key rotate with --master-key-file: the file gets the new key; the old one is refused, saying why', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const file = join(box.home, 'master.key');
  const env = { AKM_MASTER_KEY: undefined };
  await box.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test', '--master-key-file', file], { env });
  const key = await box.akmJson(['create', '--name', 'ci', '--tenant-level', '--expires-in', '5', '--no-copy'], {
    env,
  });
  const old = readKey(file);

  const dry = await box.akm(['master-key', 'rotate', '--dry-run'], { env });
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /^secrets\s+1$/m);
  t.regex(dry.stderr, /dry run: the store can be rotated; nothing was changed/);
  t.is(readKey(file), old);

  const unattended = await box.akm(['master-key', 'rotate'], { env });
  t.is(unattended.code, 2);
  t.is(readKey(file), old);
  const declined = await box.akm(['master-key', 'rotate'], {
    ...atTerminal,
    env: { ...env, CI: undefined },
    answers: scripted([/Replace the master key of this store\? It re-seals 1 secret and re-keys \d+ rows/, false]),
  });
  t.is(declined.code, 130);
  t.regex(declined.stderr, /not rotated/);

  const rotated = await box.akm(['master-key', 'rotate', '--yes'], { env });
  t.is(rotated.code, 0, rotated.stderr);
  t.regex(rotated.stdout, new RegExp(`^new key\\s+${file.replace(/[/.]/g, '\\$&')}$`, 'm'));
  t.regex(rotated.stdout, /^audit head\s+\d+:\S{43}$/m);
  t.regex(rotated.stderr, /✓ master key rotated/);
  t.regex(rotated.stderr, /akm master-key export --to FILE/);
  t.not(readKey(file), old);
  t.is(statSync(file).mode & 0o777, 0o600);
  t.is((await box.akm(['verify'], { env, input: key.value.keyString })).code, 0);

  const oldFile = join(box.home, 'old.key');
  writeFileSync(oldFile, `${old}\n`, { mode: 0o600 });
  const refused = await box.akm(['--master-key-file', oldFile, 'verify'], { env, input: key.value.keyString });
  t.is(refused.code, 6);
  t.regex(refused.stderr, /master key does not match this store/);
  t.regex(refused.stderr, /rotated at \S+ by a@acme\.test .* and the new key put in \S+master\.key/);
});

test('master-key rotate with AKM_MASTER_KEY: the new key goes to a file named for it, or to stdout when asked', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const key = await box.akmJson(['create', '--name', 'ci', '--tenant-level', '--expires-in', '5', '--no-copy']);

  const unnamed = await box.akm(['master-key', 'rotate', '--yes']);
  t.is(unnamed.code, 2);
  t.regex(unnamed.stderr, /missing --new-key-file <file> \(or --print-new-key\)/);
  t.regex(unnamed.stderr, /akm cannot change/);
  const both = await box.akm(['master-key', 'rotate', '--yes', '--print-new-key', '--json']);
  t.is(both.code, 2);

  const file = join(box.home, 'new.key');
  const rotated = await box.akmJson(['master-key', 'rotate', '--yes', '--new-key-file', file]);
  t.is(rotated.code, 0, rotated.stderr);
  t.like(rotated.value, { dryRun: false, newKey: file, tenants: 1, secrets: 1 });
  t.is(statSync(file).mode & 0o777, 0o600);
  const first = readKey(file);
  t.is((await box.akm(['verify'], { env: { AKM_MASTER_KEY: first }, input: key.value.keyString })).code, 0);
  const stale = await box.akm(['verify'], { input: key.value.keyString });
  t.is(stale.code, 6);
  t.true(stale.stderr.includes(file), stale.stderr);

  const printed = await box.akm(['master-key', 'rotate', '--yes', '--print-new-key'], {
    env: { AKM_MASTER_KEY: first },
  });
  t.is(printed.code, 0, printed.stderr);
  t.regex(printed.stdout, /^[A-Za-z0-9+/]{43}=\n$/, 'stdout holds the new key alone');
  t.regex(printed.stderr, /put the new key \(printed on stdout\) in AKM_MASTER_KEY/);
  const second = printed.stdout.trim();
  t.is((await box.akm(['verify'], { env: { AKM_MASTER_KEY: second }, input: key.value.keyString })).code, 0);
});

test('master-key rotate with the keychain: the entry gets the new key', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const keychain = new MemoryKeychain();
  const env = { AKM_MASTER_KEY: undefined };
  await box.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test'], { env, keychain });
  const [account, old] = [...keychain.entries][0]!;
  const rotated = await box.akmJson(['master-key', 'rotate', '--yes'], { env, keychain });
  t.is(rotated.code, 0, rotated.stderr);
  t.is(rotated.value.newKey, 'the OS keychain');
  t.deepEqual([...keychain.entries.keys()], [account]);
  t.not(keychain.get(account), old);
  t.is((await box.akm(['audit', 'verify'], { env, keychain })).code, 0);
});

test('the master key is never handled through a server (exit 2, nothing sent)', async (t) => {
  const server = await serverFixture();
  const box = new Sandbox();
  t.teardown(async () => {
    box.cleanup();
    await server.close();
  });
  const env = { AKM_STORE: server.url, AKM_CREDENTIALS: server.admin.keyString };
  const requests = server.logs.length;
  const exported = await box.akm(['master-key', 'export', '--to', join(box.home, 'k'), '--yes'], { env });
  t.is(exported.code, 2);
  t.regex(exported.stderr, /handled on a local store only, never through a server/);
  const rotated = await box.akm(['master-key', 'rotate', '--yes'], { env });
  t.is(rotated.code, 2);
  t.is(server.logs.length, requests);
  t.false(existsSync(join(box.home, 'k')));
});

/** No keychain at all; and a locked one: reading finds nothing (as Secret Service does for a locked collection), writing is refused. */
const UNUSABLE_KEYCHAINS: ReadonlyArray<readonly [string, Keychain]> = [
  ['missing', NO_KEYCHAIN],
  ['locked', { get: () => null, set: () => NO_KEYCHAIN.set('', ''), delete: () => false }],
];

test('init without a usable keychain says so before asking anything: a script is told how, a person offered a file', async (t) => {
  for (const [what, keychain] of UNUSABLE_KEYCHAINS) {
    const box = new Sandbox();
    t.teardown(() => box.cleanup());
    const script = await box.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test'], {
      env: { AKM_MASTER_KEY: undefined },
      keychain,
    });
    t.is(script.code, 6, `${what}: ${script.stderr}`);
    t.regex(script.stderr, /^error: no OS keychain can keep the master key of a new store here/);
    t.regex(script.stderr, /--master-key-file/);
    t.regex(script.stderr, /AKM_MASTER_KEY/);
    t.false(existsSync(box.storePath), `${what}: nothing made`);

    // A person: the news first, then the offer, before the tenant's name is asked.
    const answers = scripted(
      [/^Keep the master key in this file instead/, '~/keys/akm.key'],
      [/^Tenant name/, 'Acme'],
      [/^Tenant id/, ENTER],
    );
    const person = await box.akm(['init', '--admin', 'a@acme.test'], {
      ...atTerminal,
      env: { AKM_MASTER_KEY: undefined, CI: undefined },
      keychain,
      answers,
    });
    t.is(person.code, 0, `${what}: ${person.stderr}`);
    t.regex(answers.asked[0]!, /^Keep the master key in this file instead/, `${what}: the offer comes first`);
    t.regex(person.stderr, /^warning: no OS keychain can keep the master key/m);
    const file = join(box.home, 'keys', 'akm.key');
    t.is(statSync(file).mode & 0o777, 0o600, `${what}: ~ is the home folder; the file is owner-only`);
    t.regex(person.stderr, /master key of this store is in the file\s+\S*akm\.key,\s+and nowhere else/);
    const later = await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy'], {
      env: { AKM_MASTER_KEY: undefined },
      keychain,
    });
    t.is(later.code, 0, `${what}: the profile remembers the file: ${later.stderr}`);
  }
  const keychain = new MemoryKeychain();
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const ok = await box.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test'], {
    env: { AKM_MASTER_KEY: undefined },
    keychain,
  });
  t.is(ok.code, 0, ok.stderr);
  t.deepEqual([...keychain.entries.keys()].length, 1, 'the check leaves nothing behind but the master key');
});

test('login without a usable keychain says so before asking for the credentials', async (t) => {
  for (const [what, keychain] of UNUSABLE_KEYCHAINS) {
    const box = new Sandbox();
    t.teardown(() => box.cleanup());
    const answers = scripted();
    const result = await box.akm(['login', 'http://127.0.0.1:1'], {
      ...atTerminal,
      keychain,
      answers,
    });
    t.is(result.code, 6, `${what}: ${result.stderr}`);
    t.deepEqual(answers.asked, [], `${what}: nothing asked`);
    t.regex(result.stderr, /keychain/);
    t.regex(result.stderr, /AKM_ACCESS_KEY_ID/);
    t.regex(result.stderr, /--insecure-storage/);
  }
});
