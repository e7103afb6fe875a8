/**
 * Bad command lines, answered the way gh or git answer them: the mistake named first (an unknown
 * command before its flags), every missing flag at once, a value outside its choices with the
 * allowed values and the nearest one, a date naming its flag. Each refusal is one line and a
 * hint, exit 2, a snake_case code under --json, and the store is left as it was.
 */
import test from 'ava';
import fc from 'fast-check';
import type { Command } from 'commander';
import { buildProgram } from '../../src/cli/program.js';
import { Sandbox } from '../helpers/cli.js';
import { commandPaths } from '../helpers/akm.js';
import { testStreams } from '../helpers/io.js';
import { checkAsyncProperty, propertyConfig } from '../helpers/property.js';
import { snapshot } from '../helpers/snapshot.js';

const box = new Sandbox();

test.before(async () => {
  await box.init();
});
test.after.always(() => box.cleanup());

/** Runs a refused command twice (text and --json): one line plus a hint, the code, nothing changed. */
async function refused(t: import('ava').ExecutionContext, args: string[], code: string): Promise<string> {
  const before = snapshot(box.storePath);
  const result = await box.akm(args);
  t.is(result.code, 2, `${args.join(' ')}: ${result.stderr}`);
  t.is(result.stdout, '', 'no data on stdout');
  const lines = result.stderr.trim().split('\n');
  t.regex(lines[0]!, /^error: /, result.stderr);
  t.true(lines.length <= 2 && (lines.length === 1 || lines[1]!.startsWith('hint: ')), result.stderr);
  const json = await box.akm([...args, '--json']);
  t.is(json.code, 2);
  t.is((JSON.parse(json.stderr) as { error: { code: string } }).error.code, code, json.stderr);
  t.is(snapshot(box.storePath), before, 'the store is unchanged');
  return result.stderr;
}

const unknownCommands: Array<[string[], RegExp]> = [
  [['craete', '--name', 'x'], /^error: unknown command 'craete' for akm\nhint: did you mean create\?\n$/],
  [['--store', 'x.db', 'craete', '--name', 'x'], /^error: unknown command 'craete' for akm\n/],
  [['users', 'ad', '--email', 'x@acme.test'], /^error: unknown command 'ad' for akm users\nhint: did you mean add\?/],
  [['audit', 'verfy', '--anchor', 'x'], /^error: unknown command 'verfy' for akm audit\nhint: did you mean verify\?/],
  [['help', 'crete'], /^error: unknown command 'crete' for akm\nhint: did you mean create\?\n$/],
  [['users', 'help', 'ad'], /^error: unknown command 'ad' for akm users\nhint: did you mean add\?\n$/],
];
for (const [args, message] of unknownCommands) {
  test(`akm ${args.join(' ')}: the unknown command is the error, not its flags`, async (t) => {
    t.regex(await refused(t, args, 'unknown_command'), message);
  });
}

test('an unknown option after a known command is still an unknown option', async (t) => {
  t.regex(await refused(t, ['list', '--nme', 'x'], 'unknown_option'), /unknown option '--nme' for akm list/);
  t.regex(await refused(t, ['--frob', 'list'], 'unknown_option'), /unknown option '--frob' for akm\n/);
});

test('akm help COMMAND still prints that help on stdout', async (t) => {
  for (const args of [['help'], ['help', 'create'], ['users', 'help', 'add']]) {
    const result = await box.akm(args);
    t.is(result.code, 0, result.stderr);
    t.regex(
      result.stdout,
      new RegExp(
        `^Usage: akm ${args
          .slice(0, -1)
          .filter((a) => a !== 'help')
          .join(' ')}`,
      ),
    );
    t.is(result.stderr, '');
  }
});

test('without a terminal, every missing required flag is named in one error', async (t) => {
  const name = '--name <name>';
  const expiry = '--expires-in <days> \\(or --expires-on <date>, --never-expires\\)';
  const owner = '--owner <email> \\(or --tenant-level\\)';
  const cases: Array<[string[], RegExp]> = [
    [['create'], new RegExp(`^error: missing ${name}, ${expiry} and ${owner}\n`)],
    [['create', '--tenant-level'], new RegExp(`^error: missing ${name} and ${expiry}\n`)],
    [['create', '--owner', 'admin@acme.test', '--expires-in', '5'], new RegExp(`^error: missing ${name}\n`)],
    [['create', '--name', 'x'], new RegExp(`^error: missing ${expiry} and ${owner}\n`)],
  ];
  for (const [args, message] of cases) t.regex(await refused(t, [...args, '--no-copy'], 'missing_flag'), message);
  t.regex(
    await refused(t, ['roles', 'create'], 'missing_flag'),
    /^error: missing <name> and --permission <resource:action>\nhint: usage: akm roles create \[options\] <name>\n$/,
  );
  t.regex(await refused(t, ['master-key', 'export'], 'missing_flag'), /^error: missing --to <file>\n/);
  for (const how of [{ env: { CI: undefined }, tty: true, flags: ['--no-input'] }, { env: { CI: undefined } }]) {
    const result = await box.akm(['create', ...(how.flags ?? [])], { env: how.env, tty: how.tty });
    // At a terminal the message wraps under its label: read it as one line.
    const unwrapped = result.stderr.replace(/\n +/g, ' ');
    t.regex(unwrapped, new RegExp(`^error: missing ${name}, ${expiry} and ${owner}\n`));
  }
});

/** Every option and argument of the program that takes one of a list of values. */
function choiceOptions(): Array<{ path: string[]; flag: string; choices: string[] }> {
  const program = buildProgram('0.0.0', { deps: () => ({}) as never }, testStreams());
  const found: Array<{ path: string[]; flag: string; choices: string[] }> = [];
  const walk = (command: Command, path: string[]) => {
    for (const option of command.options)
      if (option.argChoices) found.push({ path, flag: option.long!, choices: option.argChoices });
    for (const argument of command.registeredArguments)
      if (argument.argChoices) found.push({ path, flag: `<${argument.name()}>`, choices: argument.argChoices });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return found;
}

test('a value outside its choices: the flag, the allowed values and the nearest one (every choice option)', async (t) => {
  const options = choiceOptions();
  t.true(options.length >= 8, `found ${options.length}`);
  for (const expected of ['--status', '--type', '--format', '--finding', '--never-expires', '<shell>'])
    t.true(
      options.some((o) => o.flag === expected),
      expected,
    );
  // A typo of an allowed value: one character dropped, doubled or two neighbours swapped.
  const typo = fc
    .tuple(fc.constantFrom(...options), fc.nat(), fc.constantFrom('drop', 'double', 'swap'))
    .map(([option, at, how]) => {
      const meant = option.choices[at % option.choices.length]!;
      const i = at % meant.length;
      const typed =
        how === 'drop'
          ? meant.slice(0, i) + meant.slice(i + 1)
          : how === 'double'
            ? meant.slice(0, i + 1) + meant.slice(i)
            : meant.slice(0, Math.max(0, i - 1)) + meant.slice(i, i + 1) + meant.slice(i - 1, i) + meant.slice(i + 1);
      return { ...option, meant, typed };
    })
    .filter(({ typed, choices }) => typed.length >= 3 && !choices.includes(typed));
  await checkAsyncProperty(
    t,
    'choice typos',
    fc.asyncProperty(typo, async ({ path, flag, choices, meant, typed }) => {
      const args = flag.startsWith('<') ? [...path, typed] : [...path, flag, typed];
      const result = await box.akm([...args, '--json']);
      const { error } = JSON.parse(result.stderr) as { error: { code: string; message: string; hint?: string } };
      return (
        result.code === 2 &&
        error.code === 'invalid_argument' &&
        error.message === `${flag}: "${typed}" is not one of ${choices.join(', ')}` &&
        error.hint !== undefined &&
        error.hint.startsWith('did you mean ') &&
        error.hint.includes(meant)
      );
    }),
    { ...propertyConfig(), numRuns: 60 },
  );
  t.regex(
    await refused(t, ['list', '--status', 'actve'], 'invalid_argument'),
    /^error: --status: "actve" is not one of active, inactive, expired\nhint: did you mean active\?\n$/,
  );
  t.regex(
    await refused(t, ['list', '--sort', 'nme'], 'invalid_argument'),
    /^error: --sort: "nme" is not one of .*\bname\b/,
  );
  t.regex(
    await refused(t, ['list', '--columns', 'id,nme'], 'invalid_argument'),
    /^error: --columns: "id" is not one of/,
  );
});

test('every date and duration refusal names its flag', async (t) => {
  const cases: Array<[string[], string]> = [
    [['create', '--name', 'a', '--tenant-level', '--expires-on', '2027-02-30'], '--expires-on'],
    [['create', '--name', 'a', '--tenant-level', '--expires-on', '2030-01-01T25:00'], '--expires-on'],
    [['create', '--name', 'a', '--tenant-level', '--expires-on', '2020-01-01'], '--expires-on'],
    [['extend', 'x', '--until', '2027-02-30'], '--until'],
    [['extend', 'x', '--days', '0'], '--days'],
    [['policy', 'set', '--max-lifetime', '90', '--enforce-on', '2027-02-30'], '--enforce-on'],
    [['policy', 'set', '--max-lifetime', '90', '--enforce-on', '2027-01-01T24:30'], '--enforce-on'],
    [['policy', 'set', '--max-lifetime', '90', '--enforce-on', '2020-01-01'], '--enforce-on'],
    [['policy', 'set', '--max-lifetime', '90', '--enforce-on', '9999-01-01'], '--enforce-on'],
    [['policy', 'set', '--max-lifetime', '90', '--enforce-on', 'soon'], '--enforce-on'],
    [['policy', 'set', '--max-lifetime', 'lots'], '--max-lifetime'],
    [['audit', '--since', '2027-13-01'], '--since'],
    [['audit', '--since', 'yesterday'], '--since'],
    [['list', '--expiring-within', '0'], '--expiring-within'],
    [['rotate', 'x', '--grace', '1y'], '--grace'],
    [['deactivate', 'x', '--for', '0m'], '--for'],
    [['notify-expiring', '--within', 'soon'], '--within'],
  ];
  for (const [args, flag] of cases) {
    const stderr = await refused(t, args, 'usage');
    t.true(stderr.split('\n')[0]!.includes(flag), `${args.join(' ')}: ${stderr}`);
  }
  // What was typed is echoed, not the instant it was read as.
  t.regex(
    await refused(t, ['policy', 'set', '--max-lifetime', '90', '--enforce-on', '2020-01-01'], 'usage'),
    /^error: --enforce-on 2020-01-01 is in the past\n/,
  );
});

test('a group without a command prints its help on stdout and exits 0 (under --json: missing_command)', async (t) => {
  const groups = commandPaths()
    .filter((c) => c.group && c.path !== 'audit')
    .map((c) => c.path);
  t.true(groups.length >= 8, groups.join(', '));
  for (const group of ['', ...groups]) {
    const args = group === '' ? [] : group.split(' ');
    const result = await box.akm(args);
    t.is(result.code, 0, `akm ${group}: ${result.stderr}`);
    t.is(result.stderr, '', group);
    t.regex(result.stdout, new RegExp(`^Usage: akm ${group ? `${group} ` : ''}\\[options\\] \\[command\\]`), group);
    t.regex(result.stdout, /^ {2}help \[command\] /m, `${group}: its commands are listed`);
    const json = await box.akm([...args, '--json']);
    t.is(json.code, 2);
    t.is(json.stdout, '');
    t.deepEqual(JSON.parse(json.stderr), {
      error: {
        code: 'missing_command',
        message: `akm${group ? ` ${group}` : ''} needs a command`,
        hint: `see akm${group ? ` ${group}` : ''} --help`,
      },
    });
  }
});

test('a webhook on a port HTTP clients refuse is refused when added', async (t) => {
  for (const port of [9, 25, 6000, 10080]) {
    const stderr = await refused(t, ['webhooks', 'add', `https://hooks.acme.test:${port}/akm`], 'invalid_webhook_url');
    t.regex(stderr, new RegExp(`^error: webhook URL refused: port ${port} is one that HTTP clients refuse`));
  }
  // Its own store: the other tests here check that theirs is unchanged.
  const own = await new Sandbox().init();
  t.teardown(() => own.cleanup());
  const ok = await own.akm(['webhooks', 'add', 'https://hooks.acme.test:8443/akm', '--json']);
  t.is(ok.code, 0, ok.stderr);
});

test("Commander's own messages are said in akm's words: the flag, what it needs, what was typed", async (t) => {
  const cases: Array<[string[], string, RegExp]> = [
    [
      ['audit', '--limit', 'abc'],
      'invalid_argument',
      /^error: --limit needs a whole number of at least 1, got "abc"\nhint: see akm audit --help\n$/,
    ],
    [
      ['create', '--name', 'x', '--group'],
      'option_missing_argument',
      /^error: --group needs a value\nhint: usage: --group <name>\n$/,
    ],
    [['--store'], 'option_missing_argument', /^error: --store needs a value\nhint: usage: --store <path\|url>\n$/],
    [
      ['show', 'a', 'b'],
      'excess_arguments',
      /^error: too many arguments for akm show: "b" \(it takes <key>\)\nhint: usage: akm show \[options\] <key>\n$/,
    ],
    [
      ['create', 'deploy-bot'],
      'excess_arguments',
      /^error: too many arguments for akm create: "deploy-bot" \(it takes none\)\nhint: did you mean --name deploy-bot\?\n$/,
    ],
    [
      ['users', 'list', 'everyone'],
      'excess_arguments',
      /^error: too many arguments for akm users list: "everyone" \(it takes none\)\nhint: usage: akm users list \[options\]\n$/,
    ],
  ];
  for (const [args, code, message] of cases) t.regex(await refused(t, args, code), message);
});

test('a profile that does not exist is an error, not the default store answering "no keys match"', async (t) => {
  const before = snapshot(box.storePath);
  for (const how of [
    { args: ['--profile', 'defualt'], env: {} },
    { args: [], env: { AKM_PROFILE: 'prod' } },
  ]) {
    const result = await box.akm([...how.args, 'list', '--json'], { env: how.env });
    t.is(result.code, 3, result.stderr);
    t.is(result.stdout, '');
    t.like(JSON.parse(result.stderr), { error: { code: 'profile_not_found' } });
  }
  const typo = await box.akm(['--profile', 'defualt', 'list']);
  t.is(typo.stderr, 'error: no profile "defualt" (flag --profile)\nhint: did you mean default?\n');
  // A store given otherwise does not need the profile; nor does the implicit default profile.
  t.is((await box.akm(['--profile', 'ci', '--store', box.storePath, 'list'])).code, 0);
  t.is((await box.akm(['list'], { env: { AKM_PROFILE: 'default' } })).code, 0);
  t.is(snapshot(box.storePath), before);
});
