/**
 * `akm list`'s new filters and orders, and the credential report, against a reference written
 * here: random tenants of keys (names, descriptions, owners, expiries past, near, far and never,
 * uses and none, inactive ones and brownouts), listed a few keys per page in every order and with every filter,
 * must come out exactly as the reference sorts and filters all of them at once.
 */
import fc from 'fast-check';
import { DEFAULT_UNUSED_DAYS } from '../../src/core/findings.js';
import { SORT_FIELDS, type KeySort } from '../../src/core/keyFields.js';
import type { LocalService } from '../../src/service/local/service.js';
import type { KeyFilter, KeyView, ReportRow } from '../../src/service/types.js';
import { setLastUsed } from '../../src/store/keys.js';
import { actingAs } from '../helpers/acting.js';
import { perEngine, type Engine } from '../helpers/engines.js';
import { checkAsyncProperty, propertyConfig } from '../helpers/property.js';
import { Clock, DAY, HOUR, keyInput } from '../helpers/service.js';
import { tempStore } from '../helpers/store.js';

const WORDS = ['ci', 'deploy', 'backup', 'ingest', 'ops'];

const keySpec = fc.record({
  word: fc.constantFrom(...WORDS),
  description: fc.constantFrom('', 'nightly', 'billing export', 'zz'),
  owner: fc.constantFrom(null, 'bob@acme.test', 'carol@acme.test'),
  expiry: fc.oneof(fc.constant(null), fc.integer({ min: 1, max: 400 })),
  usedDaysAgo: fc.option(fc.integer({ min: 0, max: 300 })),
  inactive: fc.boolean(),
  /** a brownout of this many hours, begun after time has passed (so it still lasts when listed) */
  brownoutHours: fc.option(fc.integer({ min: 1, max: 48 })),
  role: fc.constantFrom<string | null>(null, 'ReadOnly', 'KeyManager'),
});

type KeySpec = typeof keySpec extends fc.Arbitrary<infer T> ? T : never;

async function seed(admin: LocalService, clock: Clock, specs: KeySpec[]) {
  const owned = new Map<string, number>();
  const ids: string[] = [];
  for (const [i, spec] of specs.entries()) {
    // A user owns at most two keys; the rest are the tenant's.
    const owner = spec.owner && (owned.get(spec.owner) ?? 0) < 2 ? spec.owner : null;
    if (owner) owned.set(owner, (owned.get(owner) ?? 0) + 1);
    const key = await admin.createKey(
      keyInput({
        name: `${spec.word}-${i}`,
        description: spec.description,
        owner,
        expiry: spec.expiry === null ? { kind: 'never' } : { kind: 'days', days: spec.expiry },
        roles: spec.role ? [spec.role] : [],
      }),
    );
    if (spec.usedDaysAgo !== null) {
      const at = new Date(clock.now().getTime() + 200 * DAY - spec.usedDaysAgo * DAY).toISOString();
      await admin.ctx.store.write(null, (q) => setLastUsed(q, key.accessKeyId, at));
    }
    if (spec.inactive) await admin.setKeyStatus(key.accessKeyId, 'inactive');
    ids.push(key.accessKeyId);
    clock.advance(HOUR + (i % 3) * 1000);
  }
  // Time passes: some keys expire, some were last used long ago.
  clock.advance(200 * DAY);
  for (const [i, spec] of specs.entries())
    if (spec.brownoutHours !== null && !spec.inactive)
      await admin.setKeyStatus(ids[i]!, 'inactive', { forMs: spec.brownoutHours * HOUR });
}

/** A fresh store with two users and the keys of `specs`, handed to `work`, then removed. */
async function withSeededStore(
  engine: Engine,
  specs: KeySpec[],
  work: (admin: LocalService, clock: Clock) => Promise<boolean>,
): Promise<boolean> {
  const store = await tempStore(engine);
  const clock = new Clock();
  const admin = await store.open(clock.now);
  try {
    await admin.addUser('bob@acme.test', '');
    await admin.addUser('carol@acme.test', '');
    await seed(admin, clock, specs);
    return await work(admin, clock);
  } finally {
    await admin.close();
    await store.cleanup();
  }
}

/** The documented order: never-expiring after every date, never-used before every date; ties by id. */
function sortValue(key: KeyView, field: KeySort['field']): string {
  if (field === 'expiresAt') return key.expiresAt ?? '9999';
  if (field === 'lastUsedAt') return key.lastUsedAt ?? '';
  if (field === 'inactiveUntil') return key.inactiveUntil ?? '';
  if (field === 'owner') return key.owner ?? '';
  if (field === 'name' || field === 'description') return key[field].toLowerCase();
  return String(key[field]);
}

function reference(keys: KeyView[], sort: KeySort): string[] {
  const sign = sort.descending ? -1 : 1;
  const cmp = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);
  return [...keys]
    .sort(
      (a, b) => sign * (cmp(sortValue(a, sort.field), sortValue(b, sort.field)) || cmp(a.accessKeyId, b.accessKeyId)),
    )
    .map((k) => k.accessKeyId);
}

async function listAll(service: LocalService, filter: KeyFilter, limit: number): Promise<KeyView[]> {
  const keys: KeyView[] = [];
  let after: string | undefined;
  do {
    const page = await service.listKeys(filter, { limit, ...(after ? { after } : {}) });
    keys.push(...page.items);
    after = page.next;
  } while (after);
  return keys;
}

async function reportAll(service: LocalService, unusedForDays?: number): Promise<ReportRow[]> {
  const rows: ReportRow[] = [];
  let after: string | undefined;
  do {
    const page = await service.reportKeys(unusedForDays ? { unusedForDays } : {}, {
      limit: 4,
      ...(after ? { after } : {}),
    });
    rows.push(...page.items);
    after = page.next;
  } while (after);
  return rows;
}

perEngine('every order, paged a few keys at a time, is the reference order of all the keys', async (t, engine) => {
  const config = propertyConfig();
  await checkAsyncProperty(
    t,
    `sorted listing (${engine})`,
    fc.asyncProperty(
      fc.array(keySpec, { minLength: 1, maxLength: 14 }),
      fc.integer({ min: 1, max: 5 }),
      async (specs, limit) =>
        withSeededStore(engine, specs, async (admin) => {
          const all = await listAll(admin, {}, 1000);
          for (const field of SORT_FIELDS)
            for (const descending of [false, true]) {
              const sort = { field, descending };
              const listed = (await listAll(admin, { sort }, limit)).map((k) => k.accessKeyId);
              if (JSON.stringify(listed) !== JSON.stringify(reference(all, sort)))
                throw new Error(`--sort ${field}${descending ? ':desc' : ''}, ${limit} a page: ${listed.join(' ')}`);
            }
          return true;
        }),
    ),
    { ...config, numRuns: Math.min(config.numRuns, engine === 'sqlite' ? 25 : 8) },
  );
});

perEngine(
  'filters and the report agree with their definitions, for an administrator and a key in reach',
  async (t, engine) => {
    const config = propertyConfig();
    await checkAsyncProperty(
      t,
      `filtered listing and report (${engine})`,
      fc.asyncProperty(
        fc.array(keySpec, { minLength: 1, maxLength: 14 }),
        fc.constantFrom(30, 90, 250),
        fc.constantFrom('ci-*', '*-1?', '[bd]*', 'OPS-*'),
        async (specs, unused, glob) =>
          withSeededStore(engine, specs, async (admin, clock) => {
            const manager = await actingAs(admin, null, ['KeyManager']);
            const now = clock.now().getTime();
            for (const [who, service] of [
              ['administrator', admin],
              ['KeyManager', manager],
            ] as const) {
              const all = await listAll(service, {}, 1000);
              const ids = (keys: Array<{ accessKeyId: string }>) =>
                keys
                  .map((k) => k.accessKeyId)
                  .sort()
                  .join(' ');
              const expect = async (filter: KeyFilter, keep: (k: KeyView) => boolean) => {
                const got = ids(await listAll(service, filter, 3));
                const want = ids(all.filter(keep));
                if (got !== want) throw new Error(`${who} ${JSON.stringify(filter)}: ${got} instead of ${want}`);
              };
              const lastSign = (k: KeyView) => Date.parse(k.lastUsedAt ?? k.createdAt);
              const regex = new RegExp(`^${glob.replace('*', '.*').replace('?', '.')}$`, 'i');
              await expect({ unusedForDays: unused }, (k) => lastSign(k) <= now - unused * DAY);
              await expect({ neverExpires: true }, (k) => k.expiresAt === null);
              await expect({ name: glob }, (k) => regex.test(k.name));
              await expect(
                { name: glob, neverExpires: true, status: 'active' },
                (k) => regex.test(k.name) && k.expiresAt === null && k.status === 'active',
              );
              const rows = await reportAll(service, unused);
              if (ids(rows) !== ids(all)) throw new Error(`${who}: the report shows other keys than the listing`);
              for (const finding of [
                'unused',
                'never_expires',
                'inactive',
                'no_permissions',
                'expires_soon',
              ] as const) {
                const want = rows.filter((r) => r.findings.includes(finding));
                await expect(
                  { finding, unusedForDays: finding === 'unused' ? unused : undefined },
                  (k) =>
                    want.some((r) => r.accessKeyId === k.accessKeyId) &&
                    (finding !== 'unused' || lastSign(k) <= now - unused * DAY),
                );
              }
              for (const row of rows) {
                const key = all.find((k) => k.accessKeyId === row.accessKeyId)!;
                const has = (f: string) => row.findings.includes(f as never);
                const left = key.expiresAt === null ? null : Date.parse(key.expiresAt) - now;
                const expected = {
                  unused: lastSign(key) <= now - unused * DAY,
                  never_expires: key.expiresAt === null,
                  expires_soon: left !== null && left > 0 && left <= 7 * DAY,
                  inactive: key.status !== 'active',
                  no_permissions: key.roles.length === 0 && key.groups.length === 0,
                };
                for (const [finding, present] of Object.entries(expected))
                  if (has(finding) !== present) throw new Error(`${who}: ${key.name} ${finding} should be ${present}`);
                if (row.ageDays !== Math.floor((now - Date.parse(key.createdAt)) / DAY)) throw new Error('ageDays');
                if (row.daysLeft !== (left === null ? null : Math.floor(left / DAY))) throw new Error('daysLeft');
              }
            }
            return true;
          }),
      ),
      { ...config, numRuns: Math.min(config.numRuns, engine === 'sqlite' ? 25 : 8) },
    );
    t.is(DEFAULT_UNUSED_DAYS, 90);
  },
);
