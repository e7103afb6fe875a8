/**
 * Where akm's settings come from (flag > environment > profile > default, and `akm config
 * show` saying which), what `init` remembers, and the next steps akm prints: each one is run
 * exactly as printed.
 */
import test from 'ava';
import { randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { AkmResult } from '../helpers/akm.js';
import { Sandbox } from '../helpers/cli.js';

function config(box: Sandbox): any {
  return JSON.parse(readFileSync(join(box.home, '.config', 'akm', 'config.json'), 'utf8'));
}

/** A printed command as the shell would split it: words, and 'single-quoted' words. */
function words(line: string): string[] {
  return [...line.matchAll(/'((?:[^']|'\\'')*)'|(\S+)/g)].map((m) => (m[1] ?? m[2]!).replace(/'\\''/g, "'"));
}

/** The "  akm …" lines and "hint: … akm …" commands a run printed on stderr. */
function printedCommands(result: AkmResult): string[][] {
  const lines = result.stderr.split('\n');
  const steps = lines.filter((l) => /^ {2}akm /.test(l)).map((l) => l.trim());
  const hints = lines.flatMap((l) => /^hint: .*?: (akm .*)$/.exec(l)?.[1] ?? []);
  return [...steps, ...hints].map((command) => words(command).slice(1));
}

async function runAll(t: import('ava').ExecutionContext, box: Sandbox, from: AkmResult, expected: number) {
  const commands = printedCommands(from);
  t.is(commands.length, expected, from.stderr);
  for (const args of commands) {
    const result = await box.akm(args);
    t.is(result.code, 0, `akm ${args.join(' ')} works as printed:\n${result.stderr}`);
  }
}

test('a second init leaves the default store alone and says how to reach the new one', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['create', '--name', 'first', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const before = config(box);

  const other = join(box.home, 'other.db');
  const second = await box.akm(['init', '--store', other, '--tenant', 'other', '--admin', 'o@other.test']);
  t.is(second.code, 0, second.stderr);
  t.regex(second.stderr, /Your default store is still \S+akm\.db \(profile default\)/);
  t.regex(second.stderr, new RegExp(`export AKM_STORE=${other.replace(/[/.]/g, '\\$&')}`));
  t.deepEqual(config(box), before, 'the profile is untouched');
  const listed = await box.akmJson(['list']);
  t.deepEqual(
    listed.value.map((k: { name: string }) => k.name),
    ['first'],
    'akm list still shows the default store',
  );
  await runAll(t, box, second, 2);

  const third = join(box.home, 'third.db');
  const made = await box.akmJson([
    'init',
    '--store',
    third,
    '--tenant',
    'third',
    '--admin',
    't@third.test',
    '--make-default',
  ]);
  t.is(made.code, 0, made.stderr);
  t.is(made.value.profile, 'default');
  t.like(config(box).profiles.default, { store: third, tenant: 'third' });
  t.is((await box.akmJson(['whoami'])).value.tenantId, 'third');

  const staging = join(box.home, 'staging.db');
  const named = await box.akm([
    '--profile',
    'staging',
    'init',
    '--store',
    staging,
    '--tenant',
    'stg',
    '--admin',
    's@stg.test',
  ]);
  t.is(named.code, 0, named.stderr);
  t.like(config(box).profiles.staging, { store: staging, tenant: 'stg' });
  t.is(config(box).profiles.default.store, third, 'the default profile kept its store');
  await runAll(t, box, named, 2);
  t.is((await box.akmJson(['--profile', 'staging', 'list'])).value.length, 1);
});

test('every printed next step works as printed: a new tenant in the same store, and the hint of a refusal', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const first = await box.akm(['init', '--tenant', 'acme', '--admin', 'admin@acme.test']);
  await runAll(t, box, first, 2);

  const other = await box.akm(['init', '--tenant', 'other', '--admin', 'x@other.test']);
  t.is(other.code, 0, other.stderr);
  t.regex(other.stderr, /^ {2}akm --tenant other create --name first-key --owner x@other\.test --expires-in 90$/m);
  await runAll(t, box, other, 2);
  const created = await box.akmJson(['--tenant', 'other', 'list']);
  t.deepEqual(
    created.value.map((k: { tenantId: string; owner: string }) => [k.tenantId, k.owner]),
    [['other', 'x@other.test']],
  );

  const createForNewUser = [
    '--tenant',
    'other',
    'create',
    '--name',
    'n',
    '--owner',
    'new@other.test',
    '--expires-in',
    '5',
  ];
  const refused = await box.akm(createForNewUser);
  t.is(refused.code, 3);
  t.regex(refused.stderr, /^hint: add them first: akm --tenant other users add new@other\.test$/m);
  await runAll(t, box, refused, 1);
  const again = await box.akm([...createForNewUser, '--no-copy']);
  t.is(again.code, 0, again.stderr);
  t.deepEqual(
    (await box.akmJson(['users', 'list'])).value.map((u: { email: string }) => u.email),
    ['admin@acme.test'],
  );
});

test('settings precedence is flag > environment > profile > default, and config show says where each came from', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const noKey = { AKM_MASTER_KEY: undefined };
  const keyFile = join(box.home, 'master.key');
  const init = await box.akm(['init', '--tenant', 'acme', '--admin', 'a@acme.test', '--master-key-file', keyFile], {
    env: noKey,
  });
  t.is(init.code, 0, init.stderr);
  t.is(config(box).profiles.default.masterKeyFile, keyFile, 'the first init remembers its key file');
  const key = readFileSync(keyFile, 'utf8').trim();
  const wrong = randomBytes(32).toString('base64');

  const shown = async (args: string[], env: NodeJS.ProcessEnv) =>
    (await box.akmJson([...args, 'config', 'show'], { env })).value;
  t.like(await shown([], noKey), { masterKey: { value: keyFile, from: 'profile default' } });
  // AKM_MASTER_KEY in the environment outranks the file remembered in the profile
  t.like(await shown([], { AKM_MASTER_KEY: wrong }), {
    masterKey: { value: 'AKM_MASTER_KEY', from: 'env AKM_MASTER_KEY' },
  });
  const envWins = await box.akm(['list'], { env: { AKM_MASTER_KEY: wrong } });
  t.is(envWins.code, 6, 'the (wrong) key from the environment was used, not the profile file');
  t.regex(envWins.stderr, /master key/);
  t.is((await box.akm(['list'], { env: { AKM_MASTER_KEY: key } })).code, 0);
  // ...and a flag outranks the environment
  const other = join(box.home, 'other.key');
  writeFileSync(other, `${wrong}\n`, { mode: 0o600 });
  t.like(await shown(['--master-key-file', other], { AKM_MASTER_KEY: key }), {
    masterKey: { value: other, from: 'flag --master-key-file' },
  });
  t.is((await box.akm(['--master-key-file', keyFile, 'list'], { env: { AKM_MASTER_KEY: wrong } })).code, 0);

  const store = config(box).profiles.default.store;
  t.like(await shown([], noKey), { store: { value: store, from: 'profile default' }, profile: { from: 'default' } });
  t.like(await shown([], { ...noKey, AKM_STORE: '/env/akm.db' }), {
    store: { value: '/env/akm.db', from: 'env AKM_STORE' },
  });
  t.like(await shown(['--store', '/flag/akm.db'], { ...noKey, AKM_STORE: '/env/akm.db' }), {
    store: { value: '/flag/akm.db', from: 'flag --store' },
  });
  t.like(await shown([], { ...noKey, AKM_PROFILE: 'ci' }), {
    profile: { value: 'ci', from: 'env AKM_PROFILE' },
    store: { from: 'default' },
  });
  const table = await box.akm(['config', 'show'], { env: noKey });
  t.regex(table.stdout, /^SETTING\s+VALUE\s+FROM$/m);
  t.regex(table.stdout, /^master key\s+\S+master\.key\s+profile default$/m);
  const whoami = await box.akm(['whoami'], { env: { AKM_MASTER_KEY: key, AKM_STORE: store } });
  t.regex(whoami.stdout, /store\s+\S+ \(local, from env AKM_STORE\)/);
  t.regex(whoami.stdout, /profile\s+default \(the default\)/);
  t.regex(whoami.stdout, /^tenant\s+acme$/m, 'a tenant named by its id is not named twice');
});
