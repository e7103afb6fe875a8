/** akm serve runs the expiry mail job by itself, as cron would run `akm notify-expiring`. */
import test from 'ava';
import { until } from '../helpers/children.js';
import { serverFixture } from '../helpers/server.js';
import { startSmtp } from '../helpers/smtp.js';

test('the server mails about keys expiring within two days, once per key and date', async (t) => {
  const smtp = await startSmtp();
  t.teardown(() => smtp.close());
  const fx = await serverFixture({ mail: smtp.settings, expiryJobIntervalMs: 200 });
  t.teardown(fx.close);
  const admin = fx.remote(fx.admin);
  const soon = await admin.createKey({
    name: 'soon',
    type: 'access',
    expiry: { kind: 'days', days: 1 },
    owner: null,
    groups: [],
    roles: [],
  });
  await admin.createKey({
    name: 'later',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: [],
  });
  const runs = () => fx.logs.filter((l) => l.event === 'expiry_mail');
  await until(() => runs().length === 1, 'the first mail');
  t.is(smtp.received.length, 1, JSON.stringify(smtp.received.map((m) => m.subject)));
  t.deepEqual(smtp.received[0]!.to, ['admin@acme.test']);
  t.true(smtp.received[0]!.body.includes(soon.accessKeyId));
  t.false(smtp.received[0]!.body.includes('later'));
  t.like(runs()[0], { sent: 1 });
  // A key that becomes due now is mailed by a later run: that run must not mail the first key again.
  const next = await admin.createKey({
    name: 'next',
    type: 'access',
    expiry: { kind: 'days', days: 1 },
    owner: null,
    groups: [],
    roles: [],
  });
  await until(() => runs().length === 2, 'the run that mails the second key');
  t.like(runs()[1], { keys: 1, sent: 1 });
  t.is(smtp.received.length, 2);
  t.true(smtp.received[1]!.body.includes(next.accessKeyId));
});

test('without a mail server the job is off, and says so once', async (t) => {
  const fx = await serverFixture({ mail: null });
  t.teardown(fx.close);
  t.is(fx.logs.filter((l) => l.event === 'expiry_mail_off').length, 1);
});
