import test from 'ava';
import { relativeTo, renderExpiryMail, utcMinute, type ExpiryMailPayload } from '../../src/notify/expiryMessage.js';
import { expiryRecipients, windowEnd } from '../../src/notify/expiryPlan.js';
import {
  describeSmtpError,
  mailSettingsFromEnv,
  redact,
  requireMailSettings,
  transportOptions,
} from '../../src/notify/smtp.js';
import { UsageError } from '../../src/core/errors.js';

const now = new Date('2026-05-01T09:00:00.000Z');
const payload: ExpiryMailPayload = {
  accessKeyId: 'AKMAAAAAAAAAAAAAAAAA',
  keyName: 'deploy-bot',
  tenantId: 'acme',
  tenantName: 'Acme Inc.',
  owner: 'alice@acme.test',
  expiresAt: '2026-05-03T09:00:00.000Z',
  reasons: ['administrator', 'creator'],
};

test('recipients: the owner, every administrator, the creator and the last modifier, each once with all their reasons', (t) => {
  const people = {
    owner: 'dave@acme.test',
    createdBy: 'carol@acme.test',
    modifiedBy: 'Admin@acme.test',
    creatorIsUser: true,
    modifierIsUser: true,
  };
  t.deepEqual(expiryRecipients(people, ['bob@acme.test', 'admin@acme.test']), [
    { email: 'dave@acme.test', reasons: ['owner'] },
    { email: 'admin@acme.test', reasons: ['administrator', 'modifier'] },
    { email: 'bob@acme.test', reasons: ['administrator'] },
    { email: 'carol@acme.test', reasons: ['creator'] },
  ]);
});

test('recipients: a removed user or a tenant-level key as creator or modifier gets no mail', (t) => {
  const people = {
    owner: null,
    createdBy: 'gone@acme.test',
    modifiedBy: 'key:AKMBBBBBBBBBBBBBBBBB',
    creatorIsUser: false,
    modifierIsUser: true,
  };
  t.deepEqual(expiryRecipients(people, ['admin@acme.test']), [
    { email: 'admin@acme.test', reasons: ['administrator'] },
  ]);
});

test('the window ends whole days from now', (t) => {
  t.is(windowEnd(now, 2).toISOString(), '2026-05-03T09:00:00.000Z');
});

test('the mail names the key, id, tenant, expiry in UTC and relative, and how to extend it', (t) => {
  const mail = renderExpiryMail(payload, now);
  t.is(mail.subject, '[akm] Access key "deploy-bot" (AKMAAAAAAAAAAAAAAAAA) in tenant acme expires in 2 days');
  for (const line of [
    'The akm access key "deploy-bot" expires in 2 days.',
    '  Name:        deploy-bot',
    '  Access key:  AKMAAAAAAAAAAAAAAAAA',
    '  Tenant:      Acme Inc. (acme)',
    '  Owner:       alice@acme.test',
    '  Expires:     2026-05-03 09:00 UTC (in 2 days)',
    '  akm extend AKMAAAAAAAAAAAAAAAAA --days 90',
    'You receive this because you are a member of Administrators and you created this key.',
  ]) {
    t.true(mail.text.split('\n').includes(line), line);
  }
  t.notRegex(mail.text, /akms_|secret/i);
});

test('a retry after the expiry says it expired, and a tenant-level key says so', (t) => {
  const mail = renderExpiryMail(
    { ...payload, owner: null, reasons: ['modifier'] },
    new Date('2026-05-03T12:00:00.000Z'),
  );
  t.regex(mail.subject, /expired 3 hours ago$/);
  t.regex(mail.text, /Owner: {7}none \(a tenant-level key\)/);
  t.regex(mail.text, /Extending it brings it back with the same id/);
  t.regex(mail.text, /because you were the last to modify this key\./);
});

test('names cannot break lines or headers', (t) => {
  const mail = renderExpiryMail({ ...payload, keyName: 'x\r\nBcc: evil@x.test', tenantName: 'T\u001b[2J' }, now);
  t.false(mail.subject.includes('\n'));
  t.regex(mail.subject, /x\\x0d\\x0aBcc: evil@x.test/);
  t.false(mail.text.includes('\u001b'));
});

test('time formatting', (t) => {
  t.is(utcMinute('2026-05-03T09:00:59.999Z'), '2026-05-03 09:00 UTC');
  t.is(relativeTo('2026-05-02T09:00:00.000Z', now), 'in 1 day');
});

test('SMTP settings come from AKM_SMTP_URL and AKM_MAIL_FROM; without a URL there is no mail', (t) => {
  t.is(mailSettingsFromEnv({}), null);
  t.deepEqual(mailSettingsFromEnv({ AKM_SMTP_URL: ' smtp://h:25 ', AKM_MAIL_FROM: 'akm <a@b.test>' }), {
    url: 'smtp://h:25',
    from: 'akm <a@b.test>',
  });
  t.regex(mailSettingsFromEnv({ AKM_SMTP_URL: 'smtp://h:25' })!.from, /^akm@/);
  const error = t.throws(() => requireMailSettings(null), { instanceOf: UsageError });
  t.regex(error.hint ?? '', /AKM_SMTP_URL/);
});

test('the SMTP password never survives into an error', (t) => {
  const settings = { url: 'smtp://user:p%40ss%2Fword@mail.test:587', from: 'a@b.test' };
  const text = redact('login p@ss/word failed for p%40ss%2Fword at smtp://user:p%40ss%2Fword@mail.test:587', settings);
  t.false(text.includes('p@ss/word'));
  t.false(text.includes('p%40ss%2Fword'));
  t.regex(text, /\*\*\*/);
  const described = describeSmtpError(
    Object.assign(new Error('Invalid login: 535 bad p@ss/word'), { code: 'EAUTH', responseCode: 535 }),
    settings,
  );
  t.is(described, 'EAUTH: Invalid login: 535 bad ***');
});

test('a password is never sent in clear to another host: STARTTLS is required there', (t) => {
  const requireTLS = (url: string) => transportOptions({ url, from: 'a@b.test' }).requireTLS;
  t.true(requireTLS('smtp://user:pw@mail.acme.test:587'));
  t.false(requireTLS('smtp://user:pw@127.0.0.1:2525'), 'a loopback relay');
  t.false(requireTLS('smtp://mail.acme.test:25'), 'no credentials to protect');
  t.false(requireTLS('smtps://user:pw@mail.acme.test:465'), 'TLS from the start');
  for (const bad of ['http://mail.acme.test', 'not a url', 'mail.acme.test:25']) {
    t.throws(() => transportOptions({ url: bad, from: 'a@b.test' }), { instanceOf: UsageError }, bad);
  }
});
