/** Output conventions: stdout is data, colour and dates by terminal, NO_COLOR, user text neutralised. */
import test from 'ava';
import Database from 'better-sqlite3';
import { commandPaths } from '../helpers/akm.js';
import { Sandbox } from '../helpers/cli.js';
import { testIo } from '../helpers/io.js';

test('on a terminal: colour, relative dates, the width it reports; piped: none of it', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const person = { env: { NO_COLOR: undefined, CI: undefined }, tty: true, columns: 120 } as const;
  const shown = await box.akm(['list'], person);
  t.is(shown.code, 0, shown.stderr);
  t.regex(shown.stdout, /\u001b\[/, 'colour on a terminal');
  t.regex(shown.stdout, /in 5 days/);
  t.notRegex(shown.stdout, /\d{4}-\d\d-\d\dT/);
  const piped = await box.akm(['list'], { ...person, tty: { stdin: true, stderr: true } });
  t.notRegex(piped.stdout, /\u001b\[/);
  t.regex(piped.stdout, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
  const created = await box.akm(['create', '--name', 'b', '--tenant-level', '--expires-in', '5', '--no-copy'], {
    ...person,
    tty: { stdin: true, stderr: true },
  });
  t.regex(created.stderr, /\u001b\[.*only time the secret key is shown/, 'stderr on a terminal is coloured on its own');
  t.notRegex(created.stdout, /\u001b\[/);
  t.is(testIo({ tty: true, columns: 132 }).io.terminal.columns, 132);
});

test('piped output: no colour, ISO timestamps, data on stdout and people-talk on stderr', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const listed = await box.akm(['list'], { env: { NO_COLOR: undefined } });
  t.notRegex(listed.stdout, /\u001b\[/, 'no ANSI escapes when piped');
  t.regex(listed.stdout, /\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z/);
  t.regex(listed.stdout, /^ACCESS KEY ID\s+NAME/);
  const forced = await box.akm(['list'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
  t.regex(forced.stdout, /\u001b\[/, 'FORCE_COLOR turns colour on');
  const noColor = await box.akm(['list', '--no-color'], { env: { NO_COLOR: undefined, FORCE_COLOR: '1' } });
  t.notRegex(noColor.stdout, /\u001b\[/, '--no-color wins');
  const honoured = await box.akm(['list'], { env: { NO_COLOR: '1', FORCE_COLOR: '1' } });
  t.notRegex(honoured.stdout, /\u001b\[/, 'NO_COLOR wins');
});

test('control characters stored by other means are neutralised on output', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const db = new Database(box.storePath);
  db.prepare("UPDATE keys SET name = ? WHERE name = 'svc'").run('evil\u001b]0;pwned\u0007\u001b[2J');
  db.close();
  const listed = await box.akm(['list']);
  t.false(listed.stdout.includes('\u001b'), 'no raw escape reaches the terminal');
  t.regex(listed.stdout, /evil\\x1b\]0;pwned\\x07\\x1b\[2J/);
  const json = await box.akmJson(['list']);
  t.is(json.value[0].name, 'evil\u001b]0;pwned\u0007\u001b[2J', 'JSON keeps the exact value, escaped by JSON itself');
});

test('--quiet leaves data and errors only', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const result = await box.akm(['users', 'add', 'q@acme.test', '--quiet']);
  t.is(result.code, 0);
  t.notRegex(result.stderr, /added/);
});

test('--quiet and the secret shown once: the warning goes only where it tells nobody anything', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const create = (name: string, ...extra: string[]) => [
    'create',
    '--name',
    name,
    ...'--tenant-level --expires-in 5 --no-copy'.split(' '),
    ...extra,
  ];
  const env = { CI: undefined };
  // a script: stdout and stderr piped; the secret is in the data, and nobody reads stderr
  const script = await box.akm(create('script', '-q'));
  t.is(script.code, 0, script.stderr);
  t.regex(script.stdout, /akms_/, 'the secret is in the data');
  t.is(script.stderr, '', 'quiet: nothing but the data');
  // a person at a terminal: the secret is on the screen
  const screen = await box.akm(create('screen', '-q'), { tty: true, env });
  t.regex(screen.stdout, /akms_/);
  t.is(screen.stderr, '');
  // a person at a terminal sending the secret elsewhere (a file, a pipe): the one line that says it is not shown again
  const redirected = await box.akm(create('redirected', '-q'), { tty: { stdin: true, stderr: true }, env });
  t.regex(redirected.stdout, /akms_/);
  t.regex(redirected.stderr, /only time the secret key is shown/);
  const json = await box.akm(create('json', '-q', '--json'), { tty: { stdin: true, stderr: true }, env });
  t.regex(json.stderr, /only time the secret key is shown/, 'under --json too');
  const loud = await box.akm(create('loud'));
  t.regex(loud.stderr, /only time the secret key is shown/, 'without --quiet, always');
});

test('--help shows examples for every command; --version prints the version', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const version = await box.akm(['--version']);
  t.regex(version.stdout, /^\d+\.\d+\.\d+\n$/);
  // Every command, and "audit", which is a command with a subcommand; pure groups ("users") list theirs.
  const commands = commandPaths()
    .filter((c) => !c.group || c.path === 'audit')
    .map((c) => c.path);
  t.true(commands.length > 30);
  for (const command of commands) {
    const help = await box.akm([...command.split(' '), '--help']);
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

test('akm --help groups the commands: keys first, each top-level command under one heading', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const help = (await box.akm(['--help'])).stdout;
  const headings = [...help.matchAll(/^(\S[^\n]*):$/gm)].map((m) => m[1]);
  t.deepEqual(headings, [
    'Options',
    'Keys',
    'People and permissions',
    'Governance and audit',
    'Setting up',
    'Stores and servers',
    'Get started',
  ]);
  const listed = [...help.matchAll(/^ {2}([a-z][a-z-]*)[| ]/gm)].map((m) => m[1]);
  const topLevel = commandPaths()
    .map((c) => c.path)
    .filter((path) => !path.includes(' '));
  t.deepEqual([...listed].sort(), [...topLevel, 'help'].sort(), 'every command once');
  t.regex(help, /Setting up:\n(?: .*\n)*? {2}help \[command\]/, 'help is with the setting-up commands');
});

test('completion scripts know every command', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  for (const shell of ['bash', 'zsh', 'fish']) {
    const result = await box.akm(['completion', shell]);
    t.is(result.code, 0);
    for (const word of ['create', 'rotate', 'add-member', '--expires-in'])
      t.true(result.stdout.includes(word.replace(/^--/, '')), `${shell}: ${word}`);
  }
  t.is((await box.akm(['completion', 'tcsh'])).code, 2);
});

test('an empty list says whether the store has no keys yet or the filter matched none', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const empty = await box.akm(['list']);
  t.is(empty.code, 0);
  t.is(empty.stdout, '');
  t.regex(empty.stderr, /no keys yet: `akm create` makes one/);
  t.regex((await box.akm(['list', '--sort', 'name'])).stderr, /no keys yet/, 'an order filters nothing');
  await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy']);
  t.regex((await box.akm(['list', '--status', 'inactive'])).stderr, /^no keys match$/m);
  t.regex((await box.akm(['list', '--name', 'zz*'])).stderr, /^no keys match$/m);
});

test('messages wrap to a terminal at word boundaries; piped and JSON they stay one line', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const args = ['create', '--name', 'x', '--owner', 'nobody-with-a-long-address@acme.test', '--expires-in', '5'];
  const hint = 'hint: add them first: akm users add nobody-with-a-long-address@acme.test';
  const person = await box.akm(args, { tty: true, columns: 60, env: { CI: undefined } });
  t.is(person.code, 3, person.stderr);
  const lines = person.stderr.trimEnd().split('\n');
  t.true(
    lines.every((l) => l.length <= 60 || l.trim().startsWith('akm ')),
    `fits 60 but for a whole command:\n${person.stderr}`,
  );
  t.true(
    lines.includes('      akm users add nobody-with-a-long-address@acme.test'),
    'the command whole, under the hint',
  );
  const never = await box.akm(['create', '--name', 'n', '--tenant-level', '--never-expires', '--no-copy'], {
    tty: true,
    columns: 60,
    env: { CI: undefined },
  });
  t.regex(
    never.stderr,
    /^warning: a key that never expires stays usable until someone\n {9}deletes/m,
    'a warning under its text',
  );
  const piped = await box.akm(args);
  t.true(piped.stderr.includes(hint), 'piped: one line per message');
  const json = await box.akm([...args, '--json'], { tty: true, columns: 60, env: { CI: undefined } });
  t.notThrows(() => JSON.parse(json.stderr) as unknown, 'JSON on a terminal is never wrapped');
});

test('on a narrow terminal the key string and the secret stay whole, on one line each, for copying', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const created = await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy'], {
    tty: true,
    columns: 60,
    env: { CI: undefined },
  });
  t.is(created.code, 0, created.stderr);
  t.regex(created.stdout, /^key string {5}key:AKM[A-Z2-7]{17}::akms_\w+,tenant id:acme$/m);
  t.regex(created.stdout, /^secret key {5}\S*akms_\w+\S*$/m);
});
