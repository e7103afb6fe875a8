/** Who hears about a lifetime policy and what they read; the bell when a key is renamed. */
import test from 'ava';
import { bellNotices } from '../../src/notify/bell.js';
import {
  describePolicy,
  policyBell,
  policyRecipients,
  renderPolicyMail,
  type BreakingKey,
  type PolicyNoticePayload,
} from '../../src/notify/policyMessage.js';

const NOW = new Date('2026-05-01T09:00:00.000Z');
const key = (id: string, owner: string | null, name = id): BreakingKey => ({
  accessKeyId: `AKM${id.padEnd(17, 'A')}`,
  name,
  owner,
  expiresAt: '2027-05-01T09:00:00.000Z',
  reason: 'lifetime_exceeded',
});

test('owners hear about their own keys, administrators about all, the actor and tenant-level labels not at all', (t) => {
  const breaking = [key('B', 'bob@acme.test'), key('C', 'carol@acme.test'), key('T', null), key('K', 'key:AKMX')];
  const notices = policyRecipients(
    breaking,
    ['admin@acme.test', 'Carol@acme.test', 'dave@acme.test'],
    'dave@acme.test',
  );
  t.deepEqual(
    notices.map((n) => [n.recipient, n.reason, n.keys.length]),
    [
      ['admin@acme.test', 'administrator', 4],
      ['carol@acme.test', 'administrator', 4],
      ['bob@acme.test', 'owner', 1],
    ],
  );
  t.deepEqual(policyRecipients([], ['admin@acme.test'], ''), [], 'nothing breaks it: nobody is told');
});

test('the texts state the policy and the date, name the keys neutralised, and never carry a secret', (t) => {
  const payload: PolicyNoticePayload = {
    tenantId: 'acme',
    tenantName: 'Acme',
    occasion: 30,
    policy: {
      maxLifetimeDays: 90,
      neverExpires: 'nobody',
      rotateEveryDays: 180,
      enforceOn: '2026-05-31T09:00:00.000Z',
    },
    reason: 'owner',
    keys: [key('B', 'bob@acme.test', 'evil\u001b[2Jname\nSubject: x')],
    total: 1,
  };
  t.is(
    describePolicy(payload.policy),
    'keys valid for at most 90 days, no key without an expiry, secrets rotated every 180 days',
  );
  const bell = policyBell(payload, 'admin@acme.test', NOW);
  t.regex(
    bell,
    /enforced in 30 days, from 2026-05-31 09:00 UTC: 1 of your keys breaks it: "evil\\x1b\[2Jname\\x0aSubject: x"/,
  );
  const mail = renderPolicyMail(payload, NOW);
  t.is(mail.subject, '[akm] The key lifetime policy of tenant acme is enforced in 30 days: 1 of your keys breaks it');
  t.false(/[\u0000-\u0009\u000b-\u001f]/.test(mail.text), 'no control character but line ends');
  t.false(mail.text.split('\n').some((line) => line.startsWith('Subject:')));
  t.regex(mail.text, /You receive this because these are your keys/);
  const many = { ...payload, reason: 'administrator' as const, total: 60 };
  t.regex(renderPolicyMail(many, NOW).text, /… and 59 more \(akm report --format csv lists them all\)/);
  t.regex(policyBell(many, 'x', NOW), /60 keys of the tenant break it: .* and 59 more/);
});

test('renaming a key or changing its description rings the bell of those it concerns', (t) => {
  const facts = {
    action: 'key.edit',
    actor: 'admin@acme.test',
    key: {
      id: 'AKMAAAAAAAAAAAAAAAAA',
      name: 'old',
      owner_email: 'bob@acme.test',
      created_by: 'admin@acme.test',
      modified_by: 'admin@acme.test',
    },
    administrators: ['admin@acme.test'],
  };
  const renamed = bellNotices({ ...facts, details: { from: { name: 'old' }, to: { name: 'new' } } });
  t.deepEqual(renamed, [
    { recipient: 'bob@acme.test', message: 'admin@acme.test renamed your key "old" (AKMAAAAAAAAAAAAAAAAA) to "new"' },
  ]);
  const described = bellNotices({ ...facts, details: { from: { name: 'old' }, to: { name: 'old' } } });
  t.regex(described[0]!.message, /changed the description of your key/);
});
