/**
 * Expiry e-mail through a real SMTP server on 127.0.0.1: who gets what (envelope, subject,
 * body), once per key and expiry date, re-armed by extending, never for deleted or inactive
 * keys; the dry run; failures kept with their error and retried; two racing runs in two
 * processes sending each message exactly once.
 */
import type { ExecutionContext } from 'ava';
import { DeniedError, UsageError } from '../../src/core/errors.js';
import { LocalService } from '../../src/service/local/service.js';
import type { MailSettings } from '../../src/notify/smtp.js';
import type { IssuedKey, NotifyExpiringResult } from '../../src/service/types.js';
import { updateExpiry } from '../../src/store/keys.js';
import { actingAs } from '../helpers/acting.js';
import { fixture, mostAtOnce, spawnNode } from '../helpers/children.js';
import { Clock, DAY, HOUR, keyInput, refusal } from '../helpers/service.js';
import { closedPort, SMTP_PASSWORD, startSmtp, type TestSmtp } from '../helpers/smtp.js';
import { tempStore, type TempStore } from '../helpers/store.js';
import { perEngine, type Engine } from '../helpers/engines.js';

interface Setup {
  store: TempStore;
  smtp: TestSmtp;
  clock: Clock;
  admin: LocalService;
  /** the same store and actor, mailing through other settings */
  withMail(settings: MailSettings | null): LocalService;
}

async function setup(t: ExecutionContext, engine: Engine, admins: string[] = ['bob@acme.test']): Promise<Setup> {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const smtp = await startSmtp();
  t.teardown(smtp.close);
  const clock = new Clock();
  const base = await store.open(clock.now);
  t.teardown(() => base.close());
  const withMail = (settings: MailSettings | null) => new LocalService(base.ctx, false, settings);
  const admin = withMail(smtp.settings);
  for (const email of admins) {
    await admin.addUser(email, '');
    await admin.addGroupMember('Administrators', email);
  }
  return { store, smtp, clock, admin, withMail };
}

const run = (service: LocalService, options: { withinDays?: number; dryRun?: boolean } = {}) =>
  service.notifyExpiring({ withinDays: options.withinDays ?? 2, dryRun: options.dryRun });

const recipientsOf = (smtp: TestSmtp) => smtp.received.flatMap((m) => m.to).sort();

perEngine(
  'the owner, every administrator, the creator and the last modifier get one mail naming the key and how to extend it',
  async (t, engine) => {
    const { smtp, clock, admin } = await setup(t, engine);
    await admin.addUser('alice@acme.test', 'Alice');
    await admin.addUser('carol@acme.test', 'Carol');
    await admin.addUser('dave@acme.test', 'Dave');
    const carol = await actingAs(admin, 'carol@acme.test', ['Administrator']);
    const dave = await actingAs(admin, 'dave@acme.test', ['Administrator']);
    const key = await carol.createKey(
      keyInput({ name: 'deploy-bot', owner: 'alice@acme.test', expiry: { kind: 'days', days: 1 } }),
    );
    await dave.assignKey(key.accessKeyId, { addGroups: [], addRoles: ['ReadOnly'], removeGroups: [], removeRoles: [] });
    // keys that must not be mailed: too far out, never expiring, inactive, deleted, already expired
    const later = await admin.createKey(keyInput({ name: 'later', expiry: { kind: 'days', days: 10 } }));
    await admin.createKey(keyInput({ name: 'forever', expiry: { kind: 'never' } }));
    const off = await admin.createKey(keyInput({ name: 'off', expiry: { kind: 'days', days: 1 } }));
    await admin.setKeyStatus(off.accessKeyId, 'inactive');
    const gone = await admin.createKey(keyInput({ name: 'gone', expiry: { kind: 'days', days: 1 } }));
    await admin.deleteKey(gone.accessKeyId);
    const past = await admin.createKey(
      keyInput({ name: 'past', expiry: { kind: 'until', at: new Date(clock.now().getTime() + HOUR) } }),
    );
    clock.advance(2 * HOUR);

    const result = await run(admin);
    t.is(result.keys, 1);
    t.is(result.sent, 5);
    t.is(result.failed, 0);
    t.false(result.dryRun);
    t.deepEqual(recipientsOf(smtp), [
      'admin@acme.test',
      'alice@acme.test',
      'bob@acme.test',
      'carol@acme.test',
      'dave@acme.test',
    ]);
    const expiresAt = new Date(Date.parse('2026-05-02T09:00:00.000Z')).toISOString();
    for (const mail of smtp.received) {
      t.is(mail.to.length, 1, 'one recipient per message');
      t.is(mail.from, 'akm@acme.test');
      t.regex(mail.headers.from ?? '', /akm@acme\.test/);
      t.is(mail.headers.to, mail.to[0]);
      t.is(mail.headers['auto-submitted'], 'auto-generated');
      t.is(mail.subject, `[akm] Access key "deploy-bot" (${key.accessKeyId}) in tenant acme expires in 22 hours`);
      t.regex(mail.body, /^The akm access key "deploy-bot" expires in 22 hours\.$/m);
      t.regex(mail.body, /^ {2}Name: {8}deploy-bot$/m);
      t.regex(mail.body, new RegExp(`^ {2}Access key: {2}${key.accessKeyId}$`, 'm'));
      t.regex(mail.body, /^ {2}Tenant: {6}Acme \(acme\)$/m);
      t.regex(mail.body, /^ {2}Owner: {7}alice@acme\.test$/m);
      t.regex(mail.body, /^ {2}Expires: {5}2026-05-02 09:00 UTC \(in 22 hours\)$/m);
      t.regex(mail.body, new RegExp(`^ {2}akm extend ${key.accessKeyId} --days 90$`, 'm'));
      for (const other of [later, off, gone, past]) t.false(mail.raw.includes(other.accessKeyId));
      for (const secret of [key.secretKey, later.secretKey]) t.false(mail.raw.includes(secret));
      t.notRegex(mail.raw, /akms_/);
      t.false(mail.raw.includes(SMTP_PASSWORD));
    }
    const reasonOf = (to: string) =>
      smtp.received.find((m) => m.to[0] === to)!.body.match(/^You receive this because (.*)\.$/m)![1];
    t.is(reasonOf('alice@acme.test'), 'it is your key');
    t.is(reasonOf('bob@acme.test'), 'you are a member of Administrators');
    t.is(reasonOf('carol@acme.test'), 'you created this key');
    t.is(reasonOf('dave@acme.test'), 'you were the last to modify this key');
    t.is(reasonOf('admin@acme.test'), 'you are a member of Administrators');
    t.true(
      result.messages.every(
        (m) =>
          m.state === 'sent' &&
          m.sentAt === clock.now().toISOString() &&
          !m.retry &&
          m.error === null &&
          m.attempts === 1,
      ),
    );
    t.is(result.messages[0]!.expiresAt, expiresAt);

    // a second run sends nothing
    const again = await run(admin);
    t.deepEqual([again.keys, again.sent, again.messages.length], [0, 0, 0]);
    t.is(smtp.received.length, 5);
  },
);

perEngine('once per key and expiry date: extending re-arms the mail for the new date', async (t, engine) => {
  const { smtp, clock, admin } = await setup(t, engine, []);
  const key = await admin.createKey(keyInput({ name: 'svc', expiry: { kind: 'days', days: 1 } }));
  t.is((await run(admin)).sent, 1);
  t.is((await run(admin)).sent, 0);

  // a new date inside the window: mailed again, once
  await admin.extendKey(key.accessKeyId, { kind: 'until', at: new Date(clock.now().getTime() + 36 * HOUR) });
  const rearmed = await run(admin);
  t.is(rearmed.sent, 1);
  t.regex(smtp.received[1]!.subject, /expires in 2 days$/);
  t.regex(smtp.received[1]!.body, /2026-05-02 21:00 UTC/);
  t.is((await run(admin)).sent, 0);

  // a date outside the window: nothing now, one mail when the window reaches it
  await admin.extendKey(key.accessKeyId, { kind: 'days', days: 30 });
  t.is((await run(admin)).sent, 0);
  clock.advance(27 * DAY);
  t.is((await run(admin)).sent, 0, 'three days left: outside a two-day window');
  clock.advance(DAY + HOUR);
  const due = await run(admin);
  t.is(due.sent, 1);
  t.regex(smtp.received[2]!.subject, /expires in 2 days$/);
  t.is((await run(admin, { withinDays: 30 })).sent, 0, 'a wider window does not repeat a date already mailed');
  t.is(smtp.received.length, 3);
});

perEngine('the dry run shows who would get what, needs no SMTP, and changes nothing', async (t, engine) => {
  const { store, smtp, admin, withMail } = await setup(t, engine);
  const key = await admin.createKey(keyInput({ name: 'svc', expiry: { kind: 'days', days: 2 } }));
  const noMail = withMail(null);
  const dry = await run(noMail, { dryRun: true });
  t.true(dry.dryRun);
  t.is(dry.keys, 1);
  t.deepEqual([dry.sent, dry.failed], [0, 0]);
  t.deepEqual(
    dry.messages.map((m) => [m.recipient, m.reasons, m.state, m.id, m.accessKeyId]),
    [
      ['admin@acme.test', ['administrator', 'creator', 'modifier'], 'pending', null, key.accessKeyId],
      ['bob@acme.test', ['administrator'], 'pending', null, key.accessKeyId],
    ],
  );
  t.is(dry.messages[0]!.subject, `[akm] Access key "svc" (${key.accessKeyId}) in tenant acme expires in 2 days`);
  t.is(smtp.received.length, 0);
  const raw = await store.raw();
  t.teardown(() => raw.close());
  t.is((await raw.get('SELECT count(*) AS n FROM outbox'))!.n, 0);
  t.is((await raw.get('SELECT count(*) AS n FROM expiry_notices'))!.n, 0);

  // a real run after the dry run still sends everything; a real run without SMTP is refused first
  await refusal(t, () => run(noMail), { instanceOf: UsageError, exitCode: 2, code: 'smtp_not_configured' });
  t.is((await raw.get('SELECT count(*) AS n FROM outbox'))!.n, 0, 'refused before planning');
  t.is((await run(admin)).sent, 2);
  t.is((await run(admin, { dryRun: true })).messages.length, 0);
});

perEngine(
  'a refusing SMTP server: the mail is kept with its error and delivered by the next run',
  async (t, engine) => {
    const { store, smtp, admin } = await setup(t, engine);
    await admin.createKey(keyInput({ name: 'svc', expiry: { kind: 'days', days: 1 } }));
    smtp.refuseWith = { code: 451, message: '4.3.0 Mailbox temporarily unavailable' };
    const progress: Array<[number, number]> = [];
    const failed = await admin.notifyExpiring({ withinDays: 2 }, (done, total) => progress.push([done, total]));
    t.deepEqual([failed.sent, failed.failed], [0, 2]);
    t.deepEqual(progress, [
      [1, 2],
      [2, 2],
    ]);
    for (const m of failed.messages) {
      t.is(m.state, 'failed');
      t.is(m.attempts, 1);
      t.regex(m.error ?? '', /451/);
      t.regex(m.error ?? '', /Mailbox temporarily unavailable/);
    }
    t.is(smtp.received.length, 0);
    const raw = await store.raw();
    t.teardown(() => raw.close());
    const rows = await raw.all<{ state: string; attempts: number; last_error: string }>(
      'SELECT state, attempts, last_error FROM outbox ORDER BY id',
    );
    t.deepEqual(
      rows.map((r) => [r.state, r.attempts]),
      [
        ['failed', 1],
        ['failed', 1],
      ],
    );
    t.regex(rows[0]!.last_error, /451/);

    // the dry run lists the retries
    const dry = await run(admin, { dryRun: true });
    t.deepEqual(
      dry.messages.map((m) => [m.retry, m.state, m.attempts]),
      [
        [true, 'pending', 1],
        [true, 'pending', 1],
      ],
    );

    smtp.refuseWith = null;
    const retried = await run(admin);
    t.deepEqual([retried.keys, retried.sent, retried.failed], [0, 2, 0]);
    t.true(retried.messages.every((m) => m.retry && m.attempts === 2 && m.error === null));
    t.deepEqual(recipientsOf(smtp), ['admin@acme.test', 'bob@acme.test']);
    t.is((await run(admin)).messages.length, 0);
    t.is(smtp.received.length, 2);
  },
);

perEngine(
  'an unreachable server, then wrong credentials: errors recorded without the password, then delivery',
  async (t, engine) => {
    const { smtp, admin, withMail } = await setup(t, engine, []);
    await admin.createKey(keyInput({ name: 'svc', expiry: { kind: 'days', days: 1 } }));
    const port = await closedPort();
    const down = withMail({
      url: `smtp://akm-mailer:${encodeURIComponent(SMTP_PASSWORD)}@127.0.0.1:${port}`,
      from: 'akm@acme.test',
    });
    const first = await run(down);
    t.is(first.failed, 1);
    t.regex(first.messages[0]!.error ?? '', /ECONNREFUSED|ECONNECTION/);

    const wrongPassword = 'not-the-Pa55word';
    const badLogin = withMail({
      url: smtp.settings.url.replace(encodeURIComponent(SMTP_PASSWORD), wrongPassword),
      from: 'akm@acme.test',
    });
    const second = await run(badLogin);
    t.is(second.failed, 1);
    t.is(second.messages[0]!.attempts, 2);
    t.regex(second.messages[0]!.error ?? '', /535|auth/i);
    for (const result of [first, second]) {
      const text = JSON.stringify(result);
      t.false(text.includes(SMTP_PASSWORD));
      t.false(text.includes(encodeURIComponent(SMTP_PASSWORD)));
      t.false(text.includes(wrongPassword));
    }
    const third = await run(admin);
    t.deepEqual([third.sent, third.messages[0]!.attempts], [1, 3]);
    t.is(smtp.received.length, 1);
  },
);

perEngine(
  'queued mail for a key deleted, deactivated or re-dated before delivery is cancelled, not sent',
  async (t, engine) => {
    const { smtp, clock, admin } = await setup(t, engine, []);
    const doomed = await admin.createKey(keyInput({ name: 'doomed', expiry: { kind: 'days', days: 1 } }));
    const paused = await admin.createKey(keyInput({ name: 'paused', expiry: { kind: 'days', days: 1 } }));
    const moved = await admin.createKey(keyInput({ name: 'moved', expiry: { kind: 'days', days: 1 } }));
    smtp.refuseWith = { code: 451, message: 'try later' };
    t.is((await run(admin)).failed, 3);
    await admin.deleteKey(doomed.accessKeyId);
    await admin.setKeyStatus(paused.accessKeyId, 'inactive');
    await admin.extendKey(moved.accessKeyId, { kind: 'until', at: new Date(clock.now().getTime() + 40 * HOUR) });
    smtp.refuseWith = null;
    const next = await run(admin);
    t.is(next.cancelled, 3);
    t.is(next.sent, 1, 'only the mail for the new date of "moved"');
    t.true(
      next.messages
        .filter((m) => m.state === 'cancelled')
        .every((m) => /deleted, deactivated or given another expiry/.test(m.error ?? '')),
    );
    t.deepEqual(
      smtp.received.map((m) => m.subject.match(/"(\w+)"/)![1]),
      ['moved'],
    );
    t.regex(smtp.received[0]!.body, /2026-05-03 01:00 UTC/);
  },
);

perEngine('the job is for administrators (it covers every key); the window is checked', async (t, engine) => {
  const { admin } = await setup(t, engine, []);
  await admin.addUser('alice@acme.test', '');
  const alice = await actingAs(admin, 'alice@acme.test', ['KeyManager']);
  const denied = { instanceOf: DeniedError, exitCode: 5, code: 'admin_required' };
  await refusal(t, () => run(alice, { dryRun: true }), denied);
  const reader = await actingAs(admin, null, ['ReadOnly']);
  await refusal(t, () => run(reader, { dryRun: true }), denied);
  const robot = await actingAs(admin, null, ['Administrator']);
  t.true((await run(robot, { dryRun: true })).dryRun);
  for (const withinDays of [0, -1, 1.5, Number.NaN, 100_000]) {
    await refusal(t, () => run(admin, { withinDays, dryRun: true }), { instanceOf: UsageError, exitCode: 2 });
  }
});

perEngine('two runs racing in two processes send every message exactly once', async (t, engine) => {
  const admins = ['bob', 'carol', 'dave', 'erin'].map((n) => `${n}@acme.test`);
  const { store, smtp, admin } = await setup(t, engine, admins);
  const keys: IssuedKey[] = [];
  for (let i = 0; i < 12; i++)
    keys.push(await admin.createKey(keyInput({ name: `k${i}`, expiry: { kind: 'days', days: 1 } })));
  // Real time in the children: these keys were created with the clock of the setup, so re-date
  // them, as akm would (the rows stay sealed: store/integrity.ts).
  const connection = await store.connection();
  const at = new Date().toISOString();
  await connection.write('acme', async (q) => {
    for (const key of keys)
      await updateExpiry(q, key.accessKeyId, new Date(Date.now() + DAY).toISOString(), at, 'test');
  });
  await connection.close();
  smtp.delayMs = 15; // keep both runs sending at the same time
  const env = {
    ...process.env,
    AKM_STORE: store.location,
    AKM_MASTER_KEY: store.masterKey,
    AKM_SMTP_URL: smtp.settings.url,
    AKM_MAIL_FROM: 'akm@acme.test',
  };
  const children = [0, 1].map(() => spawnNode(fixture('notifyExpiring'), [], { env }));
  await Promise.all(children.map((child) => child.waitForLine((l) => l === 'ready', 60_000)));
  children.forEach((child) => child.send('go'));
  const results = await Promise.all(
    children.map(async (child) => {
      const line = await child.waitForLine((l) => l.startsWith('{'), 60_000);
      const { code } = await child.exited;
      t.is(code, 0, child.stderr());
      return JSON.parse(line) as { keys: number; sent: number; failed: number; ids: number[]; t0: number; t1: number };
    }),
  );
  t.is(mostAtOnce(results), 2, 'the two runs were sending at the same time');
  const expected = keys.length * (admins.length + 1);
  t.is(smtp.received.length, expected);
  const pairs = new Set(smtp.received.map((m) => `${m.to.join(',')} ${m.subject.match(/\((AKM[A-Z2-7]{17})\)/)![1]}`));
  t.is(pairs.size, expected, 'no recipient got the same key twice');
  t.is(results[0]!.keys + results[1]!.keys, keys.length, 'each key planned by exactly one run');
  t.is(results[0]!.sent + results[1]!.sent, expected);
  t.deepEqual(
    results[0]!.ids.filter((id) => results[1]!.ids.includes(id)),
    [],
    'no outbox row sent by both',
  );
  t.log(
    `run A sent ${results[0]!.sent}, run B sent ${results[1]!.sent} of ${expected}; runs took ${results.map((r) => (r.t1 - r.t0).toFixed(0)).join(' and ')} ms`,
  );
  const again: NotifyExpiringResult = await run(
    new LocalService({ ...admin.ctx, now: () => new Date() }, false, smtp.settings),
  );
  t.is(again.messages.length, 0);
});
