/**
 * Prompts: asked only when a person can answer (stdin and stdout terminals, no CI, no
 * --no-input); otherwise a usage error that names the flag to pass, and nothing changed.
 * A person is played by scripted answers; the real pseudo-terminal runs are in test/e2e/wizard.
 */
import test, { type ExecutionContext } from 'ava';
import { CTRL_C, ENTER, scripted } from '../helpers/akm.js';
import { Sandbox } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

const box = new Sandbox();
test.before(async () => {
  await box.init();
  await box.akm(['groups', 'create', 'Deployers']);
  await box.akm(['create', '--name', 'taken', '--tenant-level', '--expires-in', '5', '--no-copy']);
});
test.after.always(() => box.cleanup());

/** A person at a terminal: CI unset, every stream a terminal. */
const PERSON = { tty: true, env: { CI: undefined } } as const;

const NOBODY_TO_ASK: Array<[string, { tty?: boolean; env?: NodeJS.ProcessEnv; flags?: string[] }]> = [
  ['no terminal', { tty: false, env: { CI: undefined } }],
  ['CI set', { tty: true, env: { CI: 'true' } }],
  ['--no-input', { tty: true, env: { CI: undefined }, flags: ['--no-input'] }],
];

const ASKING: Array<[string, string[], RegExp]> = [
  ['create', ['create', '--tenant-level', '--expires-in', '5', '--no-copy'], /missing --name/],
  [
    'create without expiry',
    ['create', '--name', 'x', '--tenant-level', '--no-copy'],
    /missing --expires-in <days> \(or --expires-on <date>, --never-expires\)\n/,
  ],
  [
    'create without owner',
    ['create', '--name', 'x', '--expires-in', '5', '--no-copy'],
    /--owner <email> or --tenant-level/,
  ],
  ['delete', ['delete', 'taken'], /missing --yes/],
  ['users remove', ['users', 'remove', 'admin@acme.test'], /missing --yes/],
  ['groups delete', ['groups', 'delete', 'Deployers'], /missing --yes/],
  ['init', ['init', '--tenant', 'other', '--store', 'other.db'], /missing --admin <email>/],
];

for (const [who, how] of NOBODY_TO_ASK) {
  for (const [title, args, flag] of ASKING) {
    test(`${title}, ${who}: a usage error naming the flag, nothing changed`, async (t) => {
      const before = snapshot(box.storePath);
      const result = await box.akm([...args, ...(how.flags ?? [])], { tty: how.tty, env: how.env });
      t.is(result.code, 2, result.stderr);
      t.regex(result.stderr, flag);
      t.is(result.stdout, '');
      t.is(snapshot(box.storePath), before);
    });
  }
}

/** A store of its own, for a test that changes it. */
async function ownBox(t: ExecutionContext): Promise<Sandbox> {
  const own = await new Sandbox().init();
  t.teardown(() => own.cleanup());
  await own.akm(['groups', 'create', 'Deployers']);
  await own.akm(['create', '--name', 'taken', '--tenant-level', '--expires-in', '5', '--no-copy']);
  return own;
}

test('a person is asked only for what the flags left open', async (t) => {
  const box = await ownBox(t);
  const answers = scripted([/Valid for/, ENTER]);
  const result = await box.akmJson(['create', '--name', 'half', '--tenant-level', '--no-copy'], {
    ...PERSON,
    answers,
  });
  t.is(result.code, 0, result.stderr);
  t.deepEqual(answers.asked, ['Valid for']);
  const days = (Date.parse(result.value.expiresAt) - Date.now()) / 86_400_000;
  t.true(days > 89.9 && days <= 90, 'the highlighted default is 90 days');
});

test('with nothing given, the wizard asks everything, re-asks after refusals and warnings, then confirms', async (t) => {
  const box = await ownBox(t);
  const answers = scripted(
    [/^Owner/, { name: /tenant-level/ }],
    [/^Name/, ''],
    [/^Name/, 'taken'],
    [/^Name/, 'wizard-key'],
    [/^Type/, 'api'],
    [/Create an api key\?/, false],
    [/^Type/, 'access'],
    [/^Valid for/, 'never'],
    [/never expires\?/, false],
    [/^Valid for/, 'date'],
    [/^Expires on/, '2027-02-30'],
    [/^Expires on/, '2030-06-30'],
    [/^Groups/, ['Deployers']],
    [/^Roles/, ['Ingestion']],
    [/Create this key\?/, ENTER],
  );
  const result = await box.akm(['create', '--no-copy'], { ...PERSON, answers });
  t.is(result.code, 0, result.stderr);
  t.is(answers.unused(), 0);
  t.is(answers.refused.length, 3, answers.refused.join('\n'));
  t.regex(answers.refused[1]!, /a key named "taken" already exists at tenant level/, 'a taken name is refused at once');
  t.regex(answers.refused[2]!, /not a real calendar date/);
  t.regex(result.stderr, /api keys are for data-ingestion integrations only/);
  t.regex(result.stderr, /a\s+definite\s+expiry\s+is\s+recommended/, 'wrapped to the terminal');
  t.regex(result.stderr, /validity\s+until 2030-06-30 23:59\n/, 'through June 30, shown as the day typed');
  t.regex(result.stdout, /secret key\s+akms_/);
  const shown = await box.akmJson(['show', 'wizard-key']);
  t.like(shown.value, { type: 'access', owner: null, groups: ['Deployers'], roles: ['Ingestion'] });
});

test('declining or Ctrl-C: exit 130 and nothing changed', async (t) => {
  const before = snapshot(box.storePath);
  const declined = await box.akm(['delete', 'taken'], { ...PERSON, answers: scripted([/Delete AKM.*"taken"/, ENTER]) });
  t.is(declined.code, 130, 'No is the default');
  const interrupted = await box.akm(['create'], { ...PERSON, answers: scripted([/./, CTRL_C]) });
  t.is(interrupted.code, 130, interrupted.stderr);
  t.regex(interrupted.stderr, /cancelled/);
  t.is(snapshot(box.storePath), before);
});

test('verify asks for the key string, hidden, when stdin is a terminal', async (t) => {
  const box = await ownBox(t);
  const created = await box.akmJson(['create', '--name', 'v', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const answers = scripted([/Key string/, created.value.keyString as string]);
  const result = await box.akm(['verify'], { ...PERSON, answers });
  t.is(result.code, 0, result.stderr);
  t.deepEqual(answers.asked, ['Key string']);
  t.false(result.stdout.includes(created.value.secretKey));
});
