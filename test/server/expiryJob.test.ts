/** akm serve runs the expiry mail job by itself, as cron would run `akm notify-expiring`. */
import test from 'ava';
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
  const deadline = Date.now() + 15_000;
  while (smtp.received.length === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
  await new Promise((r) => setTimeout(r, 800)); // a few more runs: none may mail again
  t.is(smtp.received.length, 1, JSON.stringify(smtp.received.map((m) => m.subject)));
  t.deepEqual(smtp.received[0]!.to, ['admin@acme.test']);
  t.true(smtp.received[0]!.body.includes(soon.accessKeyId));
  t.false(smtp.received[0]!.body.includes('later'));
  t.truthy(fx.logs.find((l) => l.event === 'expiry_mail' && l.sent === 1));
});

test('without a mail server the job is off, and says so once', async (t) => {
  const fx = await serverFixture({ mail: null });
  t.teardown(fx.close);
  t.is(fx.logs.filter((l) => l.event === 'expiry_mail_off').length, 1);
});
