/**
 * Bad input: each case gives one clear line (plus at most a hint), the documented exit code,
 * no stack trace, and leaves the store exactly as it was.
 */
import test from 'ava';
import { Sandbox } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

const box = new Sandbox();
let keyString = '';

test.before(async () => {
  await box.init();
  await box.akm(['users', 'add', 'bob@acme.test']);
  await box.akm(['groups', 'create', 'Ops']);
  await box.akm(['roles', 'create', 'Deployer', '--permission', 'deploy:run']);
  const created = await box.akmJson(['create', '--name', 'taken', '--tenant-level', '--expires-in', '30', '--no-copy']);
  keyString = created.value.keyString;
});
test.after.always(() => box.cleanup());

const CREATE = ['create', '--tenant-level', '--no-copy'];
const cases: Array<[string, string[], number, RegExp, string?]> = [
  ['non-numeric days', [...CREATE, '--name', 'a', '--expires-in', 'ten'], 2, /whole number of days/],
  ['zero days', [...CREATE, '--name', 'a', '--expires-in', '0'], 2, /at least 1 day/],
  ['negative days', [...CREATE, '--name', 'a', '--expires-in', '-5'], 2, /./],
  ['absurd days', [...CREATE, '--name', 'a', '--expires-in', '999999'], 2, /more than 3650 days/],
  ['fractional days', [...CREATE, '--name', 'a', '--expires-in', '1.5'], 2, /whole number/],
  ['past date', [...CREATE, '--name', 'a', '--expires-on', '2020-01-01'], 2, /in the past/],
  ['impossible date', [...CREATE, '--name', 'a', '--expires-on', '2027-02-30'], 2, /not a real calendar date/],
  ['garbage date', [...CREATE, '--name', 'a', '--expires-on', 'tomorrow-ish'], 2, /cannot read/],
  ['impossible time', [...CREATE, '--name', 'a', '--expires-on', '2030-01-01T25:00:00Z'], 2, /not a real time/],
  ['no expiry given', [...CREATE, '--name', 'a'], 2, /missing --expires-in/],
  [
    'conflicting expiry flags',
    [...CREATE, '--name', 'a', '--expires-in', '5', '--never-expires'],
    2,
    /cannot be used with/,
  ],
  [
    'owner and tenant-level',
    ['create', '--name', 'a', '--owner', 'bob@acme.test', '--tenant-level', '--expires-in', '5'],
    2,
    /cannot be used with/,
  ],
  ['no owner decision', ['create', '--name', 'a', '--expires-in', '5'], 2, /--owner <email> or --tenant-level/],
  ['no name', [...CREATE, '--expires-in', '5'], 2, /missing --name/],
  [
    'unknown type',
    [...CREATE, '--name', 'a', '--type', 'root', '--expires-in', '5'],
    2,
    /--type: "root" is not one of access, api/,
  ],
  [
    'unknown user',
    ['create', '--name', 'a', '--owner', 'nobody@acme.test', '--expires-in', '5', '--no-copy'],
    3,
    /no user nobody@acme.test/,
  ],
  [
    'invalid email',
    ['create', '--name', 'a', '--owner', 'not-an-email', '--expires-in', '5', '--no-copy'],
    2,
    /invalid email/,
  ],
  ['unknown group', [...CREATE, '--name', 'a', '--expires-in', '5', '--group', 'Nope'], 3, /no group "Nope"/],
  ['unknown role', [...CREATE, '--name', 'a', '--expires-in', '5', '--role', 'Nope'], 3, /no role "Nope"/],
  ['unknown key', ['show', 'AKMAAAAAAAAAAAAAAAAA'], 3, /no key AKMAAAAAAAAAAAAAAAAA/],
  ['unknown key name', ['rotate', 'ghost', '--no-copy'], 3, /no key named "ghost"/],
  ['duplicate key name', [...CREATE, '--name', 'taken', '--expires-in', '5'], 4, /already exists/],
  ['duplicate key name, other case', [...CREATE, '--name', 'TAKEN', '--expires-in', '5'], 4, /already exists/],
  ['duplicate user', ['users', 'add', 'bob@acme.test'], 4, /already exists/],
  ['duplicate group', ['groups', 'create', 'ops'], 4, /already exists/],
  ['duplicate role', ['roles', 'create', 'Deployer', '--permission', 'x:y'], 4, /already exists/],
  ['empty name', [...CREATE, '--name', '', '--expires-in', '5'], 2, /must not be empty/],
  ['blank name', [...CREATE, '--name', '   ', '--expires-in', '5'], 2, /must not be empty/],
  ['over-long name', [...CREATE, '--name', 'x'.repeat(65), '--expires-in', '5'], 2, /too long/],
  [
    'name with an escape sequence',
    [...CREATE, '--name', 'evil\u001b[2Jname', '--expires-in', '5'],
    2,
    /control or invisible/,
  ],
  ['name with a bidi override', [...CREATE, '--name', 'abc\u202edef', '--expires-in', '5'], 2, /control or invisible/],
  [
    'name looking like a flag',
    [...CREATE, '--name=--yes', '--expires-in', '5'],
    2,
    /--name needs a value, not the option --yes/,
  ],
  [
    'an option where a value belongs',
    ['create', '--name', '--tenant-level', '--expires-in', '30'],
    2,
    /^error: --name needs a value, not the option --tenant-level\nhint: usage: --name <name>\n$/,
  ],
  [
    'a name that starts with a dash',
    [...CREATE, '--name', '-x', '--expires-in', '5'],
    2,
    /--name needs a value, not the option -x/,
  ],
  ['name that a URL would swallow', [...CREATE, '--name', '..', '--expires-in', '5'], 2, /must not be "\.\."/],
  ['invalid permission', ['roles', 'create', 'Bad', '--permission', 'DROP TABLE'], 2, /invalid permission/],
  ['bad grace', ['rotate', 'taken', '--grace', 'forever', '--no-copy'], 2, /needs a duration/],
  ['grace too long', ['rotate', 'taken', '--grace', '90d', '--no-copy'], 2, /at most 30 days/],
  ['extend without a choice', ['extend', 'taken'], 2, /missing --days/],
  ['list with bad days', ['list', '--expiring-within', 'soon'], 2, /whole number/],
  [
    'list with bad status',
    ['list', '--status', 'zombie'],
    2,
    /--status: "zombie" is not one of active, inactive, expired/,
  ],
  ['unknown option', ['list', '--frobnicate'], 2, /unknown option '--frobnicate'/],
  ['unknown command', ['frobnicate'], 2, /unknown command/],
  ['a mistyped command', ['creat'], 2, /^error: unknown command 'creat' for akm\nhint: did you mean create\?\n$/],
  ['a mistyped subcommand', ['users', 'ad', 'x@acme.test'], 2, /hint: did you mean add\?/],
  [
    'a mistyped option',
    [...CREATE, '--expire-in', '5'],
    2,
    /unknown option '--expire-in' for akm create\nhint: did you mean --expires-in or --expires-on\?/,
  ],
  ['a mistyped global option', ['list', '--quite'], 2, /hint: did you mean --quiet\?/],
  ['an unknown word after a command with subcommands', ['audit', 'verfy'], 2, /hint: did you mean verify\?/],
  ['a stray argument', ['list', 'everything'], 2, /too many arguments/],
  ['missing argument', ['show'], 2, /^error: missing <key>\nhint: usage: akm show \[options\] <key>\n$/],
  ['assign nothing', ['assign', 'taken'], 2, /nothing to assign/],
  ['delete without --yes and no terminal', ['delete', 'taken'], 2, /missing --yes/],
];

for (const [title, args, code, message] of cases) {
  test(`${title} → exit ${code}, one clear line, nothing changed`, async (t) => {
    const before = snapshot(box.storePath);
    const result = await box.akm(args);
    t.is(result.code, code, result.stderr);
    t.regex(result.stderr, message);
    const lines = result.stderr.trim().split('\n');
    t.true(lines.length <= 2, `at most an error line and a hint: ${result.stderr}`);
    t.regex(lines[0]!, /^error: /);
    t.notRegex(result.stderr, /\n\s+at /, 'no stack trace');
    t.is(result.stdout, '', 'no data on stdout for a refused command');
    t.is(snapshot(box.storePath), before, 'the store is unchanged');
  });
}

const malformed: Array<[string, (ks: string) => string]> = [
  ['empty', () => ''],
  ['garbage', () => 'hello world'],
  [
    'one changed secret character',
    (ks) => ks.replace(/(::akms_.{10})(.)/, (_m, a: string, c: string) => a + (c === 'a' ? 'b' : 'a')),
  ],
  ['truncated secret', (ks) => ks.replace(/(::akms_[0-9A-Za-z]{20})[0-9A-Za-z]+/, '$1')],
  ['bad access key id', (ks) => ks.replace(/key:AKM/, 'key:XKM')],
  ['missing tenant', (ks) => ks.replace(/,tenant id:.*/, '')],
  ['bad tenant', (ks) => ks.replace(/tenant id:acme/, 'tenant id:ACME!')],
];
for (const [title, mutate] of malformed) {
  test(`verify: malformed key string (${title}) → exit 2`, async (t) => {
    const before = snapshot(box.storePath);
    const result = await box.akm(['verify'], { input: mutate(keyString) });
    t.is(result.code, 2, result.stderr);
    t.notRegex(result.stderr, /akms_/, 'the secret is never echoed');
    t.is(snapshot(box.storePath), before);
  });
}

// A local verify is a check that changes nothing, so it runs beside the "nothing changed" cases.
test('verify: well-formed but unknown → exit 5; a space after "tenant id:" is accepted', async (t) => {
  t.is((await box.akm(['verify'], { input: keyString.replace('tenant id:', 'tenant id: ') })).code, 0);
  t.is(
    (await box.akm(['verify'], { input: keyString.replace(/key:AKM[A-Z2-7]{17}/, 'key:AKMAAAAAAAAAAAAAAAAA') })).code,
    5,
  );
  t.is((await box.akm(['verify'], { input: keyString.replace('tenant id:acme', 'tenant id:other') })).code, 5);
});

test('errors under --json are one JSON object on stderr', async (t) => {
  const result = await box.akm(['show', 'ghost', '--json']);
  t.is(result.code, 3);
  t.is(result.stdout, '');
  const parsed = JSON.parse(result.stderr) as { error: { code: string; message: string } };
  t.is(parsed.error.code, 'key_not_found');
  t.regex(parsed.error.message, /no key named "ghost"/);
});
