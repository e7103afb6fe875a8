/**
 * The bell, expiry mail and audit commands through the real binary: JSON on stdout, progress
 * and summaries on stderr, exit codes (6 when mail stays undelivered or the trail was altered).
 */
import test from 'ava';
import { hostname, userInfo } from 'node:os';
import { rawDb } from '../helpers/db.js';
import { Sandbox } from '../helpers/cli.js';
import { startSmtp } from '../helpers/smtp.js';

async function box(t: import('ava').ExecutionContext): Promise<Sandbox> {
  const sandbox = await new Sandbox().init();
  t.teardown(() => sandbox.cleanup());
  return sandbox;
}

test('notifications: the inbox as a table and as JSON, unread marked, --mark-read', async (t) => {
  const b = await box(t);
  await b.akm(['users', 'add', 'alice@acme.test']);
  await b.akm([
    'create',
    '--name',
    'ci',
    '--expires-in',
    '30',
    '--owner',
    'alice@acme.test',
    '--role',
    'ReadOnly',
    '--no-copy',
  ]);
  await b.akm(['assign', 'ci', '--role', 'Ingestion']);
  const table = await b.akm(['notifications', '--user', 'alice@acme.test']);
  t.is(table.code, 0, table.stderr);
  const lines = table.stdout.trim().split('\n');
  t.regex(lines[0]!, /^NEW\s+WHEN\s+MESSAGE$/);
  t.regex(
    lines[1]!,
    /^\*\s+\d{4}-\d\d-\d\dT\S+Z\s+admin@acme\.test changed the assignments of your key "ci" \(AKM[A-Z2-7]{17}\): added role Ingestion$/,
  );
  t.regex(lines[2]!, /created your key "ci" .* with role ReadOnly$/);
  t.regex(table.stderr, /2 unread/);

  const marked = await b.akmJson(['notifications', '--user', 'alice@acme.test', '--mark-read']);
  t.is(marked.value.user, 'alice@acme.test');
  t.deepEqual(
    marked.value.items.map((n: { read: boolean }) => n.read),
    [false, false],
  );
  t.is(marked.value.unread, 0);
  const unread = await b.akmJson(['notifications', '--user', 'alice@acme.test', '--unread']);
  t.deepEqual(unread.value.items, []);
  const empty = await b.akm(['notifications', '--user', 'alice@acme.test', '--unread']);
  t.is(empty.stdout, '');
  t.regex(empty.stderr, /no unread notifications/);
  t.is((await b.akm(['notifications', '--user', 'nobody@acme.test'])).code, 3);
  t.is((await b.akm(['notifications', '--limit', '0'])).code, 2);
});

test('notify-expiring: dry run, delivery over SMTP, once only, and exit 6 when mail stays queued', async (t) => {
  const b = await box(t);
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const created = await b.akmJson(['create', '--name', 'soon', '--expires-in', '1', '--tenant-level', '--no-copy']);
  const mailEnv = { AKM_SMTP_URL: smtp.settings.url, AKM_MAIL_FROM: 'akm@acme.test' };

  const dry = await b.akm(['notify-expiring', '--dry-run']);
  t.is(dry.code, 0, dry.stderr);
  t.regex(dry.stdout, /^RECIPIENT\s+KEY\s+NAME\s+EXPIRES\s+WOULD\s+ERROR\n/);
  t.regex(dry.stdout, new RegExp(`admin@acme\\.test\\s+${created.value.accessKeyId}\\s+soon\\s+\\S+\\s+send`));
  t.regex(dry.stderr, /dry run: 1 key newly expiring within 2 days; would send 1 message/);
  t.is(smtp.received.length, 0);

  t.is((await b.akm(['notify-expiring'])).code, 2, 'no AKM_SMTP_URL: a usage error');
  smtp.refuseWith = { code: 451, message: 'greylisted, try again later' };
  const failed = await b.akmJson(['notify-expiring'], { env: mailEnv });
  t.is(failed.code, 6);
  t.is(failed.value.failed, 1);
  t.deepEqual(JSON.parse(failed.stderr.trim().split('\n').pop()!).error.code, 'mail_undelivered');
  smtp.refuseWith = null;
  const sent = await b.akmJson(['notify-expiring', '--within', '2'], { env: mailEnv });
  t.is(sent.code, 0, sent.stderr);
  t.like(sent.value, { dryRun: false, withinDays: 2, keys: 0, sent: 1, failed: 0 });
  t.like(sent.value.messages[0], {
    recipient: 'admin@acme.test',
    accessKeyId: created.value.accessKeyId,
    state: 'sent',
    retry: true,
    attempts: 2,
  });
  t.deepEqual(
    smtp.received.map((m) => m.to),
    [['admin@acme.test']],
  );
  t.regex(smtp.received[0]!.body, new RegExp(`akm extend ${created.value.accessKeyId} --days 90`));
  t.false(smtp.received[0]!.raw.includes(created.value.secretKey));
  const again = await b.akm(['notify-expiring'], { env: mailEnv });
  t.is(again.code, 0);
  t.is(again.stdout, '');
  t.is(smtp.received.length, 1);
  t.is((await b.akm(['notify-expiring', '--within', 'soon'])).code, 2);
});

test('audit and audit verify: filters, JSON, exit 6 naming the altered record, --expect-head', async (t) => {
  const b = await box(t);
  await b.akm(['users', 'add', 'alice@acme.test']);
  const key = await b.akmJson(['create', '--name', 'ci', '--expires-in', '30', '--tenant-level', '--no-copy']);
  await b.akm(['extend', 'ci', '--days', '60']);
  await b.akm(['delete', 'ci', '--yes']);

  const all = await b.akmJson(['audit']);
  t.deepEqual(
    all.value.map((r: { action: string }) => r.action),
    ['key.delete', 'key.extend', 'key.create', 'user.add', 'tenant.init'],
  );
  t.false(JSON.stringify(all.value).includes(key.value.secretKey));
  const byName = await b.akmJson(['audit', '--key', 'ci', '--since', '1h', '--limit', '2']);
  t.deepEqual(
    byName.value.map((r: { action: string }) => r.action),
    ['key.delete', 'key.extend'],
  );
  const table = await b.akm(['audit', '--actor', 'admin@acme.test', '--limit', '1']);
  t.regex(
    table.stdout,
    // FROM is the OS user and host that ran the command
    new RegExp(
      `^SEQ\\s+WHEN\\s+ACTOR\\s+ACTION\\s+TARGET\\s+DETAILS\\s+FROM\\n5\\s+\\S+\\s+admin@acme\\.test\\s+key\\.delete\\s+AKM[A-Z2-7]{17}\\s+name=ci owner=null\\s+${`${userInfo().username}@${hostname()}`.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\n`,
    ),
  );
  t.is((await b.akm(['audit', '--since', '2027-02-30'])).code, 2);

  const clean = await b.akmJson(['audit', 'verify']);
  t.is(clean.code, 0);
  t.like(clean.value, { ok: true, records: 5, problems: [] });
  const head: string = clean.value.head;
  t.regex(head, /^5:[A-Za-z0-9_-]{43}$/);
  t.is((await b.akm(['audit', 'verify', '--expect-head', head])).code, 0);

  const raw = rawDb(b.storePath);
  raw.prepare("UPDATE audit SET actor = 'mallory@evil.test' WHERE seq = 3").run();
  raw.close();
  const tampered = await b.akm(['audit', 'verify']);
  t.is(tampered.code, 6);
  t.regex(tampered.stdout, /status\s+TAMPERED/);
  t.regex(tampered.stdout, /edited\s+#3\s+record #3 was edited: its content no longer matches its MAC/);
  t.regex(tampered.stderr, /^error: the audit trail was tampered with: 1 problem, first: record #3 was edited/m);
  const json = await b.akmJson(['audit', 'verify']);
  t.is(json.code, 6);
  t.deepEqual(json.value.problems, [
    { kind: 'edited', seq: 3, message: 'record #3 was edited: its content no longer matches its MAC' },
  ]);
  t.is(JSON.parse(json.stderr.trim()).error.code, 'audit_tampered');
  t.is((await b.akm(['audit', 'verify', '--expect-head', 'nonsense'])).code, 2);
});
