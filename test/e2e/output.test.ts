/** Output conventions: stdout is data, NO_COLOR, ISO dates when piped, user text neutralised. */
import test from 'ava';
import Database from 'better-sqlite3';
import { Sandbox } from '../helpers/cli.js';

test('piped output: no colour, ISO timestamps, data on stdout and people-talk on stderr', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.run(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const listed = await box.run(['list'], { env: { NO_COLOR: undefined } });
  t.notRegex(listed.stdout, /\u001b\[/, 'no ANSI escapes when piped');
  t.regex(listed.stdout, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
  t.regex(listed.stdout, /^ACCESS KEY ID\s+NAME/);
  const forced = await box.run(['list'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
  t.regex(forced.stdout, /\u001b\[/, 'FORCE_COLOR turns colour on');
  const noColor = await box.run(['list', '--no-color'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
  t.notRegex(noColor.stdout, /\u001b\[/, '--no-color wins');
  const honoured = await box.run(['list'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
  t.notRegex(honoured.stdout, /\u001b\[/, 'NO_COLOR wins');
});

test('control characters stored by other means are neutralised on output', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.run(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const db = new Database(box.storePath);
  db.prepare("UPDATE keys SET name = ? WHERE name = 'svc'").run('evil\u001b]0;pwned\u0007\u001b[2J');
  db.close();
  const listed = await box.run(['list']);
  t.false(listed.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
  t.regex(listed.stdout, /evil\\x1b\]0;pwned\\x07\\x1b\[2J/);
  const json = await box.json(['list']);
  t.is(json.value[0].name, 'evil\u001b]0;pwned\u0007\u001b[2J', 'JSON keeps the exact value, escaped by JSON itself');
});

test('--quiet leaves data and errors only', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const result = await box.run(['users', 'add', 'q@acme.test', '--quiet']);
  t.is(result.code, 0);
  t.notRegex(result.stderr, /added/);
  const created = await box.run(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy', '-q']);
  t.regex(created.stderr, /only time the secret key is shown/, 'the once-only notice is never silenced');
});

test('--help shows examples for every command; --version prints the version', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const version = await box.run(['--version']);
  t.regex(version.stdout, /^\d+\.\d+\.\d+\n$/);
  const commands = [
    'init',
    'create',
    'list',
    'show',
    'extend',
    'assign',
    'rotate',
    'copy',
    'activate',
    'deactivate',
    'delete',
    'permissions',
    'verify',
    'users add',
    'users list',
    'users remove',
    'groups create',
    'groups list',
    'groups delete',
    'groups add-member',
    'groups remove-member',
    'groups add-role',
    'groups remove-role',
    'roles create',
    'roles list',
    'roles delete',
    'notifications',
    'notify-expiring',
    'audit',
    'audit verify',
    'serve',
    'login',
    'whoami',
    'logout',
    'config show',
    'completion',
  ];
  for (const command of commands) {
    const help = await box.run([...command.split(' '), '--help']);
    t.is(help.code, 0, command);
    t.regex(help.stdout, /Examples:\n\s+\$ .*akm /, `${command} has examples`);
    // Every help lists the global options (delete --help says to pass --yes: it must show it).
    for (const global of [
      '--store <path|url>',
      '--profile <name>',
      '-y, --yes',
      '--json',
      '--no-input',
      '--as <email>',
    ])
      t.true(help.stdout.includes(global), `${command} --help lists ${global}`);
    t.notRegex(help.stdout, /\(default: ""\)/, `${command}: no empty defaults`);
  }
});

test('bare akm prints its help on stdout and exits 0; a group without a command prints its help and exits 2', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  for (const args of [[], ['--no-color']]) {
    const bare = await box.run(args);
    t.is(bare.code, 0);
    t.regex(bare.stdout, /^Usage: akm \[options\] \[command\]/);
    t.is(bare.stderr, '');
  }
  for (const group of ['users', 'groups', 'roles', 'config']) {
    const result = await box.run([group]);
    t.is(result.code, 2, group);
    t.is(result.stdout, '', group);
    t.regex(result.stderr, new RegExp(`^Usage: akm ${group} \\[options\\] \\[command\\]`), group);
    t.notRegex(result.stderr, /error:|outputHelp|hint:/, `${group}: the help says it all, no stray line`);
    const json = await box.run([group, '--json']);
    t.is(json.code, 2);
    t.deepEqual(JSON.parse(json.stderr), {
      error: { code: 'missing_command', message: `akm ${group} needs a command`, hint: `see akm ${group} --help` },
    });
  }
});

test('completion scripts know every command', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await box.run(['completion', shell]);
    t.is(result.code, 0);
    for (const word of ['create', 'rotate', 'add-member', '--expires-in'])
      t.true(result.stdout.includes(word.replace(/^--/, '')), `${shell}: ${word}`);
  }
  t.is((await box.run(['completion', 'tcsh'])).code, 2);
});
