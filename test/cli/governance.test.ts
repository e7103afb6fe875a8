/**
 * The governance commands' flags, in-process on a real store: list's filters, orders, columns
 * and formats (the CSV read back by csv-parse), the report (CSV, JSON, the chart on a
 * terminal), bulk changes from arguments and stdin (the JSON array, NDJSON and plain ids; --yes,
 * --dry-run, refusals that change nothing), policy show|set|apply, edit and --description, and
 * the staged enforcement across a moving clock.
 */
import test from 'ava';
import { parse } from 'csv-parse/sync';
import { REPORT_COLUMNS } from '../../src/core/findings.js';
import { KEY_FIELDS } from '../../src/core/keyFields.js';
import { ENTER, scripted } from '../helpers/akm.js';
import { Sandbox } from '../helpers/cli.js';
import { Clock, DAY } from '../helpers/service.js';
import { snapshot } from '../helpers/snapshot.js';

const PERSON = { tty: true, env: { CI: undefined } } as const;

async function sandbox(t: import('ava').ExecutionContext, clock?: Clock): Promise<Sandbox> {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const now = clock?.now;
  for (const [name, days] of [
    ['=HYPERLINK("http://evil")', 30],
    ['ci-deploy', 200],
    ['ci-backup', 5],
    ['ops, "quoted"\nnot', 60],
  ] as const) {
    const made = await box.akm(
      [
        'create',
        '--name',
        name.replace('\n', ' '),
        '--tenant-level',
        '--expires-in',
        String(days),
        '--no-copy',
        '--description',
        `+about ${name.slice(0, 3)}`,
      ],
      { now },
    );
    if (made.code !== 0) throw new Error(made.stderr);
  }
  await box.akm(
    ['create', '--name', 'forever', '--tenant-level', '--never-expires', '--role', 'ReadOnly', '--no-copy'],
    { now },
  );
  return box;
}

const csv = (text: string) => parse<Record<string, string>>(text, { columns: true, record_delimiter: '\r\n' });

test('list --format csv: RFC 4180 with a header, formulas neutralised; --columns picks the fields for every format', async (t) => {
  const box = await sandbox(t);
  const all = await box.akm(['list', '--format', 'csv']);
  t.is(all.code, 0, all.stderr);
  t.true(all.stdout.startsWith(`${KEY_FIELDS.join(',')}\r\n`));
  const rows = csv(all.stdout);
  t.is(rows.length, 5);
  t.is(rows[0]!.name, `'=HYPERLINK("http://evil")`);
  t.is(rows[0]!.description, "'+about =HY");
  t.is(rows[3]!.name, 'ops, "quoted" not');
  t.is(rows[4]!.roles, 'ReadOnly');
  const picked = await box.akm(['list', '--columns', 'name,expiresAt', '--format', 'csv', '--sort', 'expiresAt:desc']);
  t.deepEqual(
    csv(picked.stdout).map((r) => Object.keys(r).join() + ':' + r.name),
    [
      'name,expiresAt:forever',
      'name,expiresAt:ci-deploy',
      'name,expiresAt:ops, "quoted" not',
      `name,expiresAt:'=HYPERLINK("http://evil")`,
      'name,expiresAt:ci-backup',
    ],
  );
  const json = await box.akmJson(['list', '--columns', 'accessKeyId,name', '--name', 'ci-*']);
  t.deepEqual(
    json.value.map((k: object) => Object.keys(k)),
    [
      ['accessKeyId', 'name'],
      ['accessKeyId', 'name'],
    ],
  );
  const ndjson = await box.akm(['list', '--ndjson', '--never-expires']);
  t.deepEqual(
    ndjson.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l).name),
    ['forever'],
  );
  const table = await box.akm(['list', '--columns', 'name,description', '--finding', 'no_permissions']);
  t.regex(table.stdout, /^NAME\s+DESCRIPTION\n/);
  t.notRegex(table.stdout, /forever/);
});

test('list refuses what it cannot read, with the flag and a suggestion (exit 2)', async (t) => {
  const box = await sandbox(t);
  const cases: Array<[string[], RegExp, string]> = [
    [['--sort', 'expireAt'], /did you mean expiresAt\?/, 'invalid_argument'],
    [['--columns', 'nmae'], /did you mean name\?/, 'invalid_argument'],
    [['--name', 'ci-[ab'], /unclosed "\["/, 'usage'],
    [['--unused-for', '0'], /--unused-for must be at least 1 day/, 'usage'],
    [['--finding', 'unsued'], /unsued/, 'invalid_argument'],
    [['--format', 'csv', '--ndjson'], /give one/, 'conflicting_option'],
  ];
  for (const [args, message, code] of cases) {
    const result = await box.akm(['list', ...args, '--json']);
    t.is(result.code, 2, args.join(' '));
    const error = JSON.parse(result.stderr).error;
    t.regex(`${error.message} ${error.hint ?? ''}`, message, args.join(' '));
    t.is(error.code, code, args.join(' '));
  }
});

test('report: CSV with the JSON columns read back by csv-parse; JSON with totals; on a terminal the totals and the chart', async (t) => {
  const box = await sandbox(t);
  const result = await box.akm(['report', '--format', 'csv', '--unused-for', '30']);
  t.is(result.code, 0, result.stderr);
  t.true(result.stdout.startsWith(`${REPORT_COLUMNS.join(',')}\r\n`));
  const rows = csv(result.stdout);
  t.is(rows.length, 5);
  const backup = rows.find((r) => r.name === 'ci-backup')!;
  t.is(backup.daysLeft, '4');
  t.is(backup.findings, 'expires_soon;no_permissions');
  t.is(rows.find((r) => r.name === 'forever')!.findings, 'never_expires');
  t.is(rows[0]!.name, `'=HYPERLINK("http://evil")`, 'neutralised in the report too');

  const json = await box.akmJson(['report']);
  t.is(json.value.unusedForDays, 90);
  t.is(json.value.keys.length, 5);
  t.is(json.value.summary.findings.no_permissions, 4);
  t.is(json.value.summary.expiriesPerWeek.length, 12);
  t.is(json.value.summary.expiriesPerWeek[0].count, 1, 'ci-backup, in 5 days');

  const piped = await box.akm(['report']);
  t.notRegex(piped.stdout, /expiring per week/, 'piped: the table only');
  const terminal = await box.akm(['report', '--wide'], { tty: true, columns: 100 });
  t.regex(terminal.stdout, /FINDING\s+KEYS\nunused\s+0\nnever_expires\s+1/);
  t.regex(terminal.stdout, /active keys expiring per week from 00:00 UTC, next 12 weeks \(5 keys in the report\)/);
  t.regex(terminal.stdout, /█+ 1\n/);
  for (const line of terminal.stdout.split('\n').slice(-13)) t.true(line.length <= 100, line);
});

test('bulk: arguments, the JSON array, NDJSON and plain ids on stdin all work; --dry-run changes nothing', async (t) => {
  const box = await sandbox(t);
  const list = await box.akm(['list', '--name', 'ci-*', '--json']);
  const ids = JSON.parse(list.stdout).map((k: { accessKeyId: string }) => k.accessKeyId);
  const before = snapshot(box.storePath);
  const dry = await box.akm(['deactivate', '--stdin', '--dry-run'], { input: list.stdout });
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /active → inactive/);
  t.regex(dry.stderr, /dry run: would have deactivated 2 of 2 keys; nothing changed/);
  t.is(snapshot(box.storePath), before);
  const inputs = [list.stdout, (await box.akm(['list', '--name', 'ci-*', '--ndjson'])).stdout, `${ids.join('\n')}\n`];
  for (const [i, input] of inputs.entries()) {
    const verb = i % 2 === 0 ? 'deactivate' : 'activate';
    const result = await box.akmJson([verb, '--stdin', '--yes'], { input });
    t.is(result.code, 0, result.stderr);
    t.deepEqual(
      result.value.keys.map((k: { accessKeyId: string; changed: boolean }) => [k.accessKeyId, k.changed]),
      ids.map((id: string) => [id, true]),
    );
  }
  const args = await box.akmJson(['extend', ...ids, '--days', '5', '--yes']);
  t.is(args.value.action, 'extend');
  t.is(args.value.keys.length, 2);
});

test('bulk refusals change nothing: no --yes without a terminal, bad input, too many, both sources, an unknown key', async (t) => {
  const box = await sandbox(t);
  const before = snapshot(box.storePath);
  const cases: Array<[string[], string | undefined, number, string]> = [
    [['deactivate', 'ci-deploy', 'ci-backup'], undefined, 2, 'missing_flag'],
    [['delete', '--stdin'], 'ci-deploy\n', 2, 'missing_flag'],
    [['deactivate', '--stdin', '--yes'], '[{"name": "ci-deploy"}]', 2, 'invalid_key_list'],
    [
      ['deactivate', '--stdin', '--yes'],
      Array.from({ length: 10_001 }, (_, i) => `k${i}`).join('\n'),
      2,
      'too_many_keys',
    ],
    [['deactivate', 'ci-deploy', '--stdin', '--yes'], 'ci-backup\n', 2, 'conflicting_option'],
    [['deactivate', '--yes'], undefined, 2, 'missing_argument'],
    [['deactivate', 'ci-deploy', 'nope', '--yes'], undefined, 3, 'key_not_found'],
  ];
  for (const [args, input, exit, code] of cases) {
    const result = await box.akm([...args, '--json'], input === undefined ? {} : { input });
    t.is(result.code, exit, `${args.join(' ')}: ${result.stderr}`);
    t.is(JSON.parse(result.stderr).error.code, code, args.join(' '));
  }
  t.is(snapshot(box.storePath), before);
  const one = await box.akm(['deactivate', '--stdin'], { input: 'ci-deploy\n' });
  t.is(one.code, 0, 'one key needs no --yes, as `akm deactivate <key>` does not');
});

test('bulk with nothing on stdin has nothing to do: exit 0, said so, an empty result in JSON', async (t) => {
  const box = await sandbox(t);
  const before = snapshot(box.storePath);
  const said = await box.akm(['deactivate', '--stdin', '--yes'], { input: '[]\n' });
  t.is(said.code, 0, said.stderr);
  t.regex(said.stderr, /no keys on stdin: nothing deactivated/);
  const json = await box.akm(['delete', '--stdin', '--yes', '--json'], { input: '[]' });
  t.is(json.code, 0, json.stderr);
  t.deepEqual(JSON.parse(json.stdout), { action: 'delete', dryRun: false, keys: [], warnings: [] });
  t.is(snapshot(box.storePath), before);
});

test('bulk at a terminal: what would change is shown, then asked (default No); saying no changes nothing', async (t) => {
  const box = await sandbox(t);
  const before = snapshot(box.storePath);
  const declined = await box.akm(['deactivate', 'ci-deploy', 'ci-backup'], {
    ...PERSON,
    answers: scripted([/Deactivate these 2 keys\?/, ENTER]),
  });
  t.is(declined.code, 130);
  t.regex(declined.stderr, /ci-deploy .*active → inactive/);
  t.regex(declined.stderr, /nothing deactivated/);
  t.is(snapshot(box.storePath), before);
  const agreed = await box.akm(['delete', 'ci-deploy', 'ci-backup'], {
    ...PERSON,
    answers: scripted([/Delete these 2 keys\? This cannot be undone\./, true]),
  });
  t.is(agreed.code, 0, agreed.stderr);
  t.regex(agreed.stderr, /deleted 2 of 2 keys/);
});

test('policy show|set|apply through the CLI; staged enforcement as the clock moves', async (t) => {
  const clock = new Clock();
  const box = await sandbox(t, clock);
  const at = { now: clock.now };
  const refusals: Array<[string[], RegExp]> = [
    [['policy', 'set'], /nothing to set/],
    [['policy', 'set', '--max-lifetime', '0'], /at least 1 day/],
    [['policy', 'set', '--enforce-on', '2020-01-01'], /in the past/],
    [['policy', 'apply'], /--cap/],
  ];
  for (const [args, message] of refusals) {
    const result = await box.akm(args, at);
    t.is(result.code, 2, args.join(' '));
    t.regex(result.stderr, message);
  }
  const preview = await box.akmJson(['policy', 'set', '--max-lifetime', '90', '--dry-run'], at);
  t.deepEqual(
    preview.value.violations.map((v: { name: string; reason: string }) => [v.name, v.reason]),
    [['ci-deploy', 'lifetime_exceeded']],
  );
  t.is((await box.akmJson(['policy', 'show'], at)).value.enforceOn, null, 'the dry run set nothing');
  const staged = await box.akm(['policy', 'set', '--max-lifetime', '90', '--enforce-on', '30d'], at);
  t.is(staged.code, 0, staged.stderr);
  t.regex(staged.stdout, /enforced from\s+2026-05-31T09:00:00.000Z \(until then: warnings only\)/);
  const warned = await box.akm(['create', '--name', 'long', '--tenant-level', '--expires-in', '120', '--no-copy'], at);
  t.is(warned.code, 0);
  t.regex(warned.stderr, /warning: the tenant policy allows keys valid for at most 90 days/);
  const unconfirmed = await box.akm(['policy', 'apply', '--cap'], at);
  t.is(unconfirmed.code, 2);
  t.regex(unconfirmed.stderr, /missing --yes/);
  clock.advance(30 * DAY);
  const refused = await box.akm(['extend', 'long', '--days', '91', '--json'], at);
  t.is(refused.code, 4);
  t.is(JSON.parse(refused.stderr).error.code, 'policy_violation');
  t.regex(JSON.parse(refused.stderr).error.message, /at most 90 days/);
  const capped = await box.akmJson(['policy', 'apply', '--cap', '--yes'], at);
  t.deepEqual(
    capped.value.keys.map((k: { name: string }) => k.name),
    ['ci-deploy'],
    'long expires within 90 days now',
  );
  const show = await box.akm(['policy', 'show'], at);
  t.regex(show.stdout, /max lifetime\s+90 days/);
});

test('edit and --description: shown by show, refused when empty or unprintable', async (t) => {
  const box = await sandbox(t);
  const edited = await box.akmJson(['edit', 'ci-deploy', '--name', 'ci-deploy-eu', '--description', 'EU deploys']);
  t.is(edited.value.name, 'ci-deploy-eu');
  const shown = await box.akm(['show', 'ci-deploy-eu']);
  t.regex(shown.stdout, /description\s+EU deploys/);
  t.regex(shown.stdout, /secret created/);
  for (const args of [
    ['edit', 'ci-backup'],
    ['edit', 'ci-backup', '--description', 'a\u0007b'],
    ['edit', 'ci-backup', '--name', ''],
  ])
    t.is((await box.akm(args)).code, 2, args.join(' '));
  const taken = await box.akm(['edit', 'ci-backup', '--name', 'CI-DEPLOY-EU']);
  t.is(taken.code, 4);
  t.regex(taken.stderr, /already exists/);
});
