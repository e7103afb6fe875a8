/** /v1/policy and /v1/report: the tenant's lifetime policy and the credential report. */
import { UsageError } from '../../core/errors.js';
import { MAX_DAYS } from '../../core/expiry.js';
import { NEVER_EXPIRES_RULES, type NeverExpiresRule, type PolicyChanges } from '../../core/policy.js';
import { Fields, queryInteger, queryParams } from '../fields.js';
import type { Route } from '../router.js';

/** A day count, or null to lift the limit; absent leaves it as it is. */
function daysOrNull(f: Fields, name: string): number | null | undefined {
  const value = f.raw(name);
  if (value === undefined || value === null) return value;
  return f.integer(name, 1, MAX_DAYS);
}

function policyChanges(f: Fields): PolicyChanges {
  const changes: PolicyChanges = {};
  const maxLifetimeDays = daysOrNull(f, 'maxLifetimeDays');
  const rotateEveryDays = daysOrNull(f, 'rotateEveryDays');
  const neverExpires = f.optionalString('neverExpires');
  const enforceOn = f.optionalString('enforceOn');
  if (maxLifetimeDays !== undefined) changes.maxLifetimeDays = maxLifetimeDays;
  if (rotateEveryDays !== undefined) changes.rotateEveryDays = rotateEveryDays;
  if (neverExpires !== undefined) {
    if (!(NEVER_EXPIRES_RULES as readonly string[]).includes(neverExpires))
      throw new UsageError('"neverExpires" must be admins or nobody', { code: 'invalid_body' });
    changes.neverExpires = neverExpires as NeverExpiresRule;
  }
  if (enforceOn !== undefined) changes.enforceOn = enforceOn;
  return changes;
}

export const governanceRoutes: Route[] = [
  { method: 'GET', pattern: '/v1/policy', handler: async ({ service }) => service.getPolicy() },
  {
    method: 'POST',
    pattern: '/v1/policy',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const changes = policyChanges(f);
      const dryRun = f.raw('dryRun') === undefined ? false : f.boolean('dryRun');
      f.done();
      return service.setPolicy(changes, { dryRun });
    },
  },
  {
    method: 'POST',
    pattern: '/v1/policy/apply',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      // Capping is the one way to apply a policy today; saying so keeps room for others.
      if (f.boolean('cap') !== true)
        throw new UsageError('"cap" must be true: capping expiries is what applying a policy does', {
          code: 'invalid_body',
        });
      const dryRun = f.raw('dryRun') === undefined ? false : f.boolean('dryRun');
      f.done();
      return service.applyPolicy({ dryRun });
    },
  },
  {
    method: 'GET',
    pattern: '/v1/report',
    handler: async ({ service, query }) => {
      const q = queryParams(query, ['unusedForDays', 'after', 'limit']);
      const unusedForDays = queryInteger(q.unusedForDays, 'unusedForDays', 1, MAX_DAYS);
      const limit = queryInteger(q.limit, 'limit', 1, 1000);
      return service.reportKeys(unusedForDays === undefined ? {} : { unusedForDays }, {
        ...(q.after !== undefined ? { after: q.after } : {}),
        ...(limit !== undefined ? { limit } : {}),
      });
    },
  },
];
