/** The credential report's findings and rows, its totals and its chart, pure. */
import test from 'ava';
import fc from 'fast-check';
import { barChart } from '../../src/cli/render/chart.js';
import { FINDINGS, isUnused, keyFindings, reportRow, type FindingFacts } from '../../src/core/findings.js';
import { NO_POLICY, type LifetimePolicy } from '../../src/core/policy.js';
import { SummaryBuilder } from '../../src/core/reportSummary.js';
import { displayWidth } from '../../src/cli/io/width.js';
import { checkProperty } from '../helpers/property.js';

const DAY = 86_400_000;
const NOW = new Date('2026-11-26T12:00:00.000Z');
const iso = (days: number) => new Date(NOW.getTime() + days * DAY).toISOString();

const fresh: FindingFacts = {
  status: 'active',
  createdAt: iso(-10),
  expiresAt: iso(60),
  lastUsedAt: iso(-1),
  secretCreatedAt: iso(-10),
  anyPermission: true,
};
const strict: LifetimePolicy = {
  maxLifetimeDays: 90,
  neverExpires: 'nobody',
  rotateEveryDays: 30,
  enforceOn: iso(-1),
};

function findings(changes: Partial<FindingFacts>, policy = strict, unusedForDays = 90) {
  return keyFindings({ ...fresh, ...changes }, { policy, now: NOW, unusedForDays });
}

test('each finding, alone', (t) => {
  t.deepEqual(findings({}), []);
  t.deepEqual(findings({ lastUsedAt: iso(-91) }), ['unused']);
  t.deepEqual(findings({ lastUsedAt: null, createdAt: iso(-91), secretCreatedAt: iso(-1) }), ['unused']);
  t.deepEqual(findings({ lastUsedAt: null }), [], 'never used, but younger than the period');
  t.deepEqual(findings({ expiresAt: null }, { ...strict, neverExpires: 'admins' }), ['never_expires']);
  t.deepEqual(findings({ expiresAt: null }), ['never_expires', 'policy_violation']);
  t.deepEqual(findings({ expiresAt: iso(7) }), ['expires_soon']);
  t.deepEqual(findings({ expiresAt: iso(7.01) }), []);
  t.deepEqual(findings({ secretCreatedAt: iso(-31) }), ['secret_too_old']);
  t.deepEqual(findings({ expiresAt: iso(91) }), ['policy_violation']);
  t.deepEqual(findings({ anyPermission: false }), ['no_permissions']);
  t.deepEqual(findings({ status: 'inactive' }), ['inactive']);
  t.deepEqual(
    findings({ status: 'expired', expiresAt: iso(-1) }),
    ['inactive'],
    'expired: inactive, not expiring soon',
  );
  t.deepEqual(
    findings({ expiresAt: iso(500), secretCreatedAt: iso(-400) }, NO_POLICY),
    [],
    'no policy, no policy findings',
  );
  t.deepEqual(findings({ lastUsedAt: iso(-31) }, strict, 30), ['unused'], '--unused-for 30');
});

test('unused: not used for the period, or never used and created before it (property)', (t) => {
  checkProperty(
    t,
    'unused against its definition',
    fc.property(
      fc.integer({ min: -1000, max: 0 }),
      fc.option(fc.integer({ min: -1000, max: 0 })),
      fc.integer({ min: 1, max: 400 }),
      (created, used, days) => {
        const key = { createdAt: iso(created), lastUsedAt: used === null ? null : iso(Math.max(used, created)) };
        const lastSign = used === null ? created : Math.max(used, created);
        return isUnused(key, NOW, days) === lastSign <= -days;
      },
    ),
  );
});

test('a report row: ages and days left in whole days (negative once expired), findings in the documented order', (t) => {
  const row = reportRow(
    {
      ...fresh,
      accessKeyId: 'AKMAAAAAAAAAAAAAAAAA',
      name: 'deploy',
      description: 'ci',
      owner: null,
      type: 'access',
      lastUsedFrom: null,
      status: 'expired',
      expiresAt: iso(-2.5),
      createdAt: iso(-100.2),
      secretCreatedAt: iso(-40.9),
      lastUsedAt: null,
      anyPermission: false,
    },
    { policy: strict, now: NOW, unusedForDays: 90 },
  );
  t.is(row.ageDays, 100);
  t.is(row.daysLeft, -3);
  t.is(row.secretAgeDays, 40);
  t.deepEqual(row.findings, ['unused', 'no_permissions', 'inactive']);
  t.deepEqual(
    row.findings,
    FINDINGS.filter((f) => row.findings.includes(f)),
  );
});

test('the totals count each finding, and active keys per week for 12 weeks from 00:00 UTC today', (t) => {
  const summary = new SummaryBuilder(NOW);
  summary.add({ status: 'active', expiresAt: iso(0.5), findings: ['expires_soon'] });
  summary.add({ status: 'active', expiresAt: iso(6.99), findings: ['expires_soon', 'unused'] });
  summary.add({ status: 'active', expiresAt: iso(7), findings: [] });
  summary.add({ status: 'active', expiresAt: iso(83.4), findings: [] }); // 83.9 days after midnight
  summary.add({ status: 'active', expiresAt: iso(83.6), findings: [] }); // past the twelfth week
  summary.add({ status: 'active', expiresAt: iso(84), findings: [] });
  summary.add({ status: 'inactive', expiresAt: iso(3), findings: ['inactive'] });
  summary.add({ status: 'active', expiresAt: null, findings: ['never_expires'] });
  const result = summary.result();
  t.is(result.keys, 8);
  t.is(result.findings.expires_soon, 2);
  t.is(result.findings.unused, 1);
  t.is(result.findings.inactive, 1);
  t.is(result.findings.never_expires, 1);
  t.is(result.findings.policy_violation, 0);
  t.deepEqual(
    result.expiriesPerWeek.map((w) => w.count),
    [1, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1],
    'weeks run from midnight: 6.99 days from noon is in the second week',
  );
  t.is(result.expiriesPerWeek[0]!.weekStart, '2026-11-26T00:00:00.000Z');
  t.is(result.expiriesPerWeek[1]!.weekStart, '2026-12-03T00:00:00.000Z');
  for (const w of result.expiriesPerWeek) t.regex(w.weekStart, /T00:00:00\.000Z$/, 'a day boundary');
});

test('the chart fits the width it is given and its bars grow with their values (property)', (t) => {
  checkProperty(
    t,
    'bar chart',
    fc.property(
      fc.array(fc.nat({ max: 100_000 }), { minLength: 12, maxLength: 12 }),
      fc.integer({ min: 30, max: 300 }),
      (values, width) => {
        const lines = barChart(
          values.map((value, i) => ({ label: `2026-12-${String(i + 1).padStart(2, '0')}`, value })),
          width,
        );
        const barLength = (line: string) => line.replace(/[^█▏▎▍▌▋▊▉]/g, '').length;
        const eighths = (line: string) =>
          [...line].reduce((sum, c) => sum + (c === '█' ? 8 : Math.max(0, '▏▎▍▌▋▊▉'.indexOf(c) + 1)), 0);
        return (
          lines.every((line) => displayWidth(line) <= width) &&
          lines.every((line, i) => (values[i] === 0) === (barLength(line) === 0)) &&
          values.every((v, i) => values.every((w, j) => v <= w || eighths(lines[i]!) >= eighths(lines[j]!)))
        );
      },
    ),
  );
});
