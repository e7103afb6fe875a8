/** The commands of "who uses a key" through the real Commander program, with a fake service. */
import test from 'ava';
import type { IssuedKey, KeyDetails, KeyView } from '../../src/service/types.js';
import { FAKE_NOW, runFake } from '../helpers/fakeCli.js';

const key: KeyView = {
  accessKeyId: 'AKMAAAAAAAAAAAAAAAAA',
  name: 'deploy-bot',
  description: '',
  type: 'access',
  status: 'active',
  tenantId: 'acme',
  owner: null,
  groups: [],
  roles: [],
  createdAt: '2026-04-01T00:00:00.000Z',
  createdBy: 'alice@acme.test',
  modifiedAt: '2026-04-01T00:00:00.000Z',
  modifiedBy: 'alice@acme.test',
  expiresAt: '2026-08-01T00:00:00.000Z',
  lastUsedAt: null,
  secretCreatedAt: '2026-04-01T00:00:00.000Z',
  canary: false,
  inactiveUntil: null,
};
const issued: IssuedKey = { ...key, secretKey: 'akms_x', keyString: 'key:AKMAAAAAAAAAAAAAAAAA::akms_x,tenant id:acme' };
const ago = (ms: number) => new Date(FAKE_NOW.getTime() - ms).toISOString();

test('rotate --grace auto [--quiet-for] asks the service for an automatic grace', async (t) => {
  const rotateKey = async () => issued;
  let run = await runFake(['rotate', 'deploy-bot', '--grace', 'auto', '--no-copy'], { rotateKey });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(run.calls, [['rotateKey', ['deploy-bot', { kind: 'auto', quietForMs: 3_600_000 }]]]);
  run = await runFake(['rotate', 'deploy-bot', '--grace', 'auto', '--quiet-for', '15m', '--no-copy'], { rotateKey });
  t.deepEqual(run.calls[0]![1], ['deploy-bot', { kind: 'auto', quietForMs: 900_000 }]);
  run = await runFake(['rotate', 'deploy-bot', '--grace', '2h', '--no-copy'], { rotateKey });
  t.deepEqual(run.calls[0]![1], ['deploy-bot', { kind: 'fixed', ms: 7_200_000 }]);
});

test('rotate refuses --quiet-for without --grace auto, a too short quiet period, and --finish with --grace', async (t) => {
  for (const args of [
    ['rotate', 'k', '--quiet-for', '1h'],
    ['rotate', 'k', '--grace', '1h', '--quiet-for', '1h'],
    ['rotate', 'k', '--grace', 'auto', '--quiet-for', '30s'],
    ['rotate', 'k', '--finish', '--grace', 'auto'],
  ]) {
    const run = await runFake(args, {});
    t.is(run.code, 2, args.join(' '));
    t.deepEqual(run.calls, [], args.join(' '));
  }
});

test('rotate --finish ends the grace (asks first: --yes without a terminal)', async (t) => {
  const finishGrace = async () => key;
  let run = await runFake(['rotate', 'deploy-bot', '--finish'], { finishGrace });
  t.is(run.code, 2);
  t.is(run.errorCode, 'missing_flag');
  t.deepEqual(run.calls, []);
  run = await runFake(['rotate', 'deploy-bot', '--finish', '--yes'], { finishGrace });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(run.calls, [['finishGrace', ['deploy-bot']]]);
  t.regex(run.stderr, /no longer works/);
});

test('deactivate --for is a brownout of 1 minute to 7 days; activate takes no --for', async (t) => {
  const until = new Date(FAKE_NOW.getTime() + 1_800_000).toISOString();
  const setKeyStatus = async () => ({ ...key, status: 'inactive', inactiveUntil: until });
  let run = await runFake(['deactivate', 'deploy-bot', '--for', '30m', '--json'], { setKeyStatus });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(run.calls, [['setKeyStatus', ['deploy-bot', 'inactive', { forMs: 1_800_000 }]]]);
  t.is(JSON.parse(run.stdout).inactiveUntil, until);
  run = await runFake(['deactivate', 'deploy-bot', '--for', '30m'], { setKeyStatus });
  t.regex(run.stderr, /inactive until .* then active again by itself/);
  t.regex(run.stdout, /inactive \(brownout\)/);
  for (const args of [
    ['deactivate', 'k', '--for', '30s'],
    ['deactivate', 'k', '--for', '8d'],
    ['activate', 'k', '--for', '1h'],
  ]) {
    const refused = await runFake(args, { setKeyStatus });
    t.is(refused.code, 2, args.join(' '));
    t.deepEqual(refused.calls, []);
  }
  run = await runFake(['deactivate', 'deploy-bot'], { setKeyStatus: async () => ({ ...key, status: 'inactive' }) });
  t.deepEqual(run.calls, [['setKeyStatus', ['deploy-bot', 'inactive', {}]]]);
});

test('create --canary makes a tenant-level canary; it refuses --owner', async (t) => {
  const createKey = async () => ({ ...issued, canary: true });
  let run = await runFake(['create', '--canary', '--name', 'backup-admin', '--expires-in', '90', '--no-copy'], {
    createKey,
  });
  t.is(run.code, 0, run.stderr);
  const input = run.calls[0]![1][0] as Record<string, unknown>;
  t.is(input.canary, true);
  t.is(input.owner, null);
  t.regex(run.stderr, /canary key: it never authenticates/);
  run = await runFake(['create', '--canary', '--owner', 'bob@acme.test', '--name', 'x', '--expires-in', '9'], {
    createKey,
  });
  t.is(run.code, 2);
  t.deepEqual(run.calls, []);
});

test('show: who still uses the old secret, in words; refusals during a brownout; a canary alarm', async (t) => {
  const details: KeyDetails = {
    ...key,
    status: 'inactive',
    inactiveUntil: new Date(FAKE_NOW.getTime() + 600_000).toISOString(),
    permissions: [],
    previousSecretValidUntil: new Date(FAKE_NOW.getTime() + 3_600_000).toISOString(),
    secrets: [
      {
        version: 'current',
        lastUsedAt: ago(60_000),
        sources: [
          {
            service: null,
            address: '10.0.0.9',
            userAgent: 'new-deploy/1',
            via: null,
            firstSeen: ago(90_000),
            lastSeen: ago(60_000),
            count: 4,
          },
        ],
      },
      {
        version: 'previous',
        lastUsedAt: ago(180_000),
        sources: [
          {
            service: 'billing',
            address: '10.0.0.5',
            userAgent: 'billing/3',
            via: '10.1.1.1',
            firstSeen: ago(86_400_000),
            lastSeen: ago(180_000),
            count: 120,
          },
          {
            service: 'old\u001b[2Jtool',
            address: null,
            userAgent: null,
            via: null,
            firstSeen: ago(9e8),
            lastSeen: ago(9e8),
            count: 1,
          },
        ],
      },
    ],
    grace: {
      mode: 'auto',
      quietForMs: 3_600_000,
      rotatedAt: ago(7_200_000),
      endsAt: ago(-3_420_000),
      endsBy: ago(-2_000_000_000),
    },
    brownoutAttempts: [
      {
        service: 'reports',
        address: '10.0.0.7',
        userAgent: null,
        via: null,
        firstSeen: ago(300_000),
        lastSeen: ago(120_000),
        count: 3,
      },
    ],
    canaryAlarm: null,
  };
  const run = await runFake(['show', 'deploy-bot'], { showKey: async () => details });
  t.is(run.code, 0, run.stderr);
  t.regex(run.stdout, /old secret still used by billing \(10\.0\.0\.5\), 3 minutes ago/);
  t.notRegex(run.stdout, /old.tool/, 'a use before the rotation is not "still used"');
  t.regex(run.stdout, /3 attempts during the brownout: reports \(10\.0\.0\.7\), 2 minutes ago/);
  t.regex(run.stdout, /works until unused for 1 hour: ends .* unless used again, .* at the latest/);
  t.regex(run.stdout, /until .* \(brownout\), then active again/);
  t.false(run.stdout.includes('\u001b'), 'control characters are neutralised');
  t.regex(run.stdout, /previous secret\s+billing \(10\.0\.0\.5\)\s+billing\/3\s+10\.1\.1\.1/);

  const canary = await runFake(['show', 'bait'], {
    showKey: async () => ({
      ...details,
      status: 'active',
      inactiveUntil: null,
      canary: true,
      grace: null,
      secrets: [],
      brownoutAttempts: [],
      canaryAlarm: {
        attempts: 7,
        lastAttemptAt: ago(60_000),
        lastAlertAt: ago(300_000),
        sources: [
          {
            service: null,
            address: '203.0.113.9',
            userAgent: 'curl/8',
            via: null,
            firstSeen: ago(300_000),
            lastSeen: ago(60_000),
            count: 7,
          },
        ],
      },
    }),
  });
  t.regex(canary.stdout, /canary\s+yes: never authenticates/);
  t.regex(canary.stdout, /tried 7 times, last .* by 203\.0\.113\.9, 1 minute ago/);
});

test('webhooks add prints the signing secret once on stdout, the warning on stderr', async (t) => {
  const hook = {
    id: 'wh_AAAAAAAAAAAAAAAA',
    url: 'https://hooks.acme.test/akm',
    events: ['*'],
    createdAt: FAKE_NOW.toISOString(),
    createdBy: 'alice@acme.test',
    pending: 0,
    lastAttempt: null,
    secret: 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0',
  };
  let run = await runFake(['webhooks', 'add', hook.url, '--events', 'key.created,key.canary_tripped'], {
    addWebhook: async () => hook,
  });
  t.is(run.code, 0, run.stderr);
  t.deepEqual(run.calls, [['addWebhook', [{ url: hook.url, events: ['key.created', 'key.canary_tripped'] }]]]);
  t.true(run.stdout.includes(hook.secret));
  t.false(run.stderr.includes(hook.secret));
  t.regex(run.stderr, /only time the signing secret is shown/);
  run = await runFake(['webhooks', 'add', hook.url, '--events', 'key.nope'], { addWebhook: async () => hook });
  t.is(run.code, 2);
  t.is(run.errorCode, 'invalid_event');
  t.deepEqual(run.calls, []);
});

test('webhooks test and deliver exit 6 when something was not delivered', async (t) => {
  let run = await runFake(['webhooks', 'test', 'wh_AAAAAAAAAAAAAAAA'], {
    testWebhook: async () => ({
      id: 'wh_AAAAAAAAAAAAAAAA',
      eventId: 'msg_1',
      delivered: false,
      status: 500,
      error: 'HTTP 500',
    }),
  });
  t.is(run.code, 6);
  t.is(run.errorCode, 'webhook_undelivered');
  run = await runFake(['deliver', '--json'], {
    deliver: async () => ({ webhooks: { sent: 2, failed: 1, gaveUp: 0, waiting: 1 }, mail: { sent: 0, failed: 0 } }),
  });
  t.is(run.code, 6);
  t.is(JSON.parse(run.stdout).webhooks.sent, 2);
  run = await runFake(['deliver'], {
    deliver: async () => ({ webhooks: { sent: 2, failed: 0, gaveUp: 0, waiting: 0 }, mail: { sent: 1, failed: 0 } }),
  });
  t.is(run.code, 0);
  t.regex(run.stderr, /webhooks: sent 2, failed 0 .*; mail: sent 1, failed 0/);
});
