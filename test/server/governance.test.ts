/**
 * The governance routes through a real `akm serve` and SigV4-signed clients (the remote
 * service, and curl-free raw requests for the wire shapes): the policy (read by keys:read, set
 * and applied by administrators only: 403 with the same code as locally), the report, list's new
 * query parameters, edit, bulk changes all or nothing with their larger body limit.
 */
import test from 'ava';
import aws4 from 'aws4';
import { DeniedError, UsageError } from '../../src/core/errors.js';
import type { ReportRow } from '../../src/service/types.js';
import { serverFixture } from '../helpers/server.js';
import { refusal } from '../helpers/service.js';

async function fixture(t: import('ava').ExecutionContext) {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const admin = fx.remote(fx.admin);
  const manager = fx.remote(
    await admin.createKey({
      name: 'manager',
      type: 'access',
      expiry: { kind: 'days', days: 30 },
      owner: null,
      groups: [],
      roles: ['KeyManager'],
    }),
  );
  for (const name of ['ci-a', 'ci-b', 'ci-c'])
    await admin.createKey({
      name,
      description: `about ${name}`,
      type: 'access',
      expiry: { kind: 'days', days: 200 },
      owner: null,
      groups: [],
      roles: ['KeyManager'],
    });
  return { fx, admin, manager };
}

test('policy: keys:read shows it; only administrators set or apply it (403, same code); warnings travel back', async (t) => {
  const { admin, manager } = await fixture(t);
  t.is((await manager.getPolicy()).enforceOn, null);
  await refusal(t, () => manager.setPolicy({ maxLifetimeDays: 30 }, { dryRun: true }), {
    instanceOf: DeniedError,
    exitCode: 5,
    code: 'admin_required',
  });
  await refusal(t, () => manager.applyPolicy({ dryRun: false }), {
    instanceOf: DeniedError,
    code: 'admin_required',
    exitCode: 5,
  });
  const preview = await admin.setPolicy({ maxLifetimeDays: 90 }, { dryRun: true });
  t.deepEqual(preview.violations.map((v) => v.name).sort(), ['ci-a', 'ci-b', 'ci-c']);
  t.is((await admin.getPolicy()).maxLifetimeDays, null, 'a dry run over the wire too');
  const enforceOn = new Date(Date.now() + 10 * 86_400_000).toISOString();
  await admin.setPolicy({ maxLifetimeDays: 90, rotateEveryDays: null, enforceOn }, { dryRun: false });
  t.deepEqual(await manager.getPolicy(), {
    maxLifetimeDays: 90,
    neverExpires: 'admins',
    rotateEveryDays: null,
    enforceOn,
  });
  const extended = await admin.extendKey('ci-a', { kind: 'days', days: 100 });
  t.regex(extended.warnings![0]!, /at most 90 days/);
  const capped = await admin.applyPolicy({ dryRun: false });
  t.deepEqual(capped.keys.map((k) => k.name).sort(), ['ci-a', 'ci-b', 'ci-c']);
});

test('report and list filters over the wire, paged; edit; bad query values are 400 invalid_query', async (t) => {
  const { fx, admin, manager } = await fixture(t);
  const rows: ReportRow[] = [];
  let after: string | undefined;
  do {
    const page = await manager.reportKeys({ unusedForDays: 30 }, { limit: 2, ...(after ? { after } : {}) });
    rows.push(...page.items);
    after = page.next;
  } while (after);
  t.deepEqual(
    rows.map((r) => r.name).sort(),
    ['ci-a', 'ci-b', 'ci-c', 'manager'],
    'the keys in its reach, not the admin key',
  );
  t.is(rows.find((r) => r.name === 'ci-a')!.description, 'about ci-a');
  const sorted = await admin.listKeys({ name: 'ci-*', sort: { field: 'name', descending: true } });
  t.deepEqual(
    sorted.items.map((k) => k.name),
    ['ci-c', 'ci-b', 'ci-a'],
  );
  t.is((await admin.listKeys({ neverExpires: true })).items.length, 1);
  t.is((await admin.listKeys({ finding: 'never_expires' })).items[0]!.name, 'admin');
  const edited = await manager.editKey('ci-b', { name: 'ci-bee', description: '' });
  t.deepEqual([edited.name, edited.description], ['ci-bee', '']);
  for (const query of ['sort=bogus', 'finding=nope', 'neverExpires=yes', 'unusedForDays=0', 'name=x&name=y']) {
    const response = await signed(fx.url, fx.admin, 'GET', `/v1/keys?${query}`);
    t.is(response.status, 400, query);
    t.is(response.json.error.code, 'invalid_query', query);
  }
  await refusal(t, () => admin.reportKeys({ unusedForDays: 0 }), { instanceOf: UsageError, exitCode: 2 });
});

test('bulk over the wire: one key out of reach refuses all (403, nothing changed); 10,000 ids fit the body limit', async (t) => {
  const { fx, admin, manager } = await fixture(t);
  await refusal(
    t,
    () =>
      manager.bulkKeys({ action: { kind: 'deactivate' }, keys: ['ci-a', fx.admin.accessKeyId, 'ci-b'], dryRun: false }),
    { instanceOf: DeniedError, exitCode: 5, code: 'admin_key_protected' },
  );
  const listed = await admin.listKeys({ status: 'inactive' });
  t.is(listed.items.length, 0, 'nothing was deactivated');
  const done = await manager.bulkKeys({
    action: { kind: 'extend', expiry: { kind: 'days', days: 7 } },
    keys: ['ci-a', 'ci-b'],
    dryRun: false,
  });
  t.true(done.keys.every((k) => k.changed));
  // A brownout of several keys travels as {kind:"deactivate",forMs}.
  await manager.bulkKeys({ action: { kind: 'deactivate', forMs: 30 * 60_000 }, keys: ['ci-a', 'ci-b'], dryRun: false });
  const browned = await admin.listKeys({ status: 'inactive' });
  t.deepEqual(
    browned.items.map((k) => k.inactiveUntil !== null),
    [true, true],
  );
  // 10,000 references: far above the default 64 KiB, within the bulk route's limit; all unknown.
  const many = Array.from({ length: 10_000 }, (_, i) => `no-such-key-${i}`);
  const response = await signed(fx.url, fx.admin, 'POST', '/v1/keys/bulk', {
    action: { kind: 'delete' },
    keys: many,
    dryRun: true,
  });
  t.is(response.status, 404, JSON.stringify(response.json));
  t.is(response.json.error.code, 'key_not_found');
  const tooMany = await signed(fx.url, fx.admin, 'POST', '/v1/keys/bulk', {
    action: { kind: 'delete' },
    keys: [...many, 'one-more'],
    dryRun: true,
  });
  t.is(tooMany.status, 400);
  for (const body of [
    { action: { kind: 'rotate' }, keys: ['ci-a'] },
    { action: { kind: 'delete', extra: 1 }, keys: ['ci-a'] },
    { action: { kind: 'delete', forMs: 60_000 }, keys: ['ci-a'] },
    { action: { kind: 'deactivate', forMs: '1h' }, keys: ['ci-a'] },
    { action: { kind: 'delete' }, keys: 'ci-a' },
    { action: { kind: 'delete' }, keys: ['ci-a'], dryRun: 'no' },
  ]) {
    const bad = await signed(fx.url, fx.admin, 'POST', '/v1/keys/bulk', body);
    t.is(bad.status, 400, JSON.stringify(body));
    t.is(bad.json.error.code, 'invalid_body');
  }
  const policy = await signed(fx.url, fx.admin, 'POST', '/v1/policy', { maxLifetimeDays: 0 });
  t.is(policy.status, 400);
  const apply = await signed(fx.url, fx.admin, 'POST', '/v1/policy/apply', { cap: false });
  t.is(apply.status, 400);
});

/** A signed request with a nonce, as the akm client sends it; the JSON answer and status. */
async function signed(
  url: string,
  key: { accessKeyId: string; secretKey: string },
  method: string,
  path: string,
  body?: unknown,
): Promise<{ status: number; json: any }> {
  const target = new URL(url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const request = aws4.sign(
    {
      host: target.host,
      path,
      method,
      service: 'akm',
      region: 'us-east-1',
      headers: {
        'x-akm-nonce': `${Date.now()}-${Math.random()}`,
        ...(text ? { 'content-type': 'application/json' } : {}),
      },
      ...(text ? { body: text } : {}),
    },
    { accessKeyId: key.accessKeyId, secretAccessKey: key.secretKey },
  );
  const response = await fetch(`${url}${path}`, {
    method,
    headers: request.headers as Record<string, string>,
    ...(text ? { body: text } : {}),
  });
  return { status: response.status, json: await response.json() };
}
