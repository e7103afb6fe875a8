/** /v1/keys…: the key lifecycle, one route per AkmService method. */
import { UsageError } from '../../core/errors.js';
import { MAX_DAYS } from '../../core/expiry.js';
import { FINDINGS, type Finding } from '../../core/findings.js';
import { parseSort } from '../../core/keyFields.js';
import { MAX_BULK_KEYS } from '../../core/keyRefs.js';
import { bulkActionFromWire, expiryFromWire, graceFromWire } from '../../remote/wire.js';
import type { KeyFilter, KeyStatus, KeyType } from '../../service/types.js';
import { Fields, queryBoolean, queryInteger, queryParams } from '../fields.js';
import { created, type Route } from '../router.js';

/** 10,000 references of up to 200 bytes each: a bulk body may be larger than any other. */
export const BULK_BODY_LIMIT = 2 * 1024 * 1024;

const STATUSES: KeyStatus[] = ['active', 'inactive', 'expired'];
const TYPES: KeyType[] = ['access', 'api'];

function oneOf<T extends string>(value: string | undefined, allowed: T[], name: string): T | undefined {
  if (value === undefined) return undefined;
  if (!(allowed as string[]).includes(value))
    throw new UsageError(`${name} must be one of ${allowed.join(', ')}`, { code: 'invalid_query' });
  return value as T;
}

function keyFilter(query: URLSearchParams): { filter: KeyFilter; q: Record<string, string | undefined> } {
  const q = queryParams(query, [
    'status',
    'type',
    'owner',
    'expiringWithinDays',
    'unusedForDays',
    'name',
    'neverExpires',
    'finding',
    'sort',
    'after',
    'limit',
  ]);
  const filter: KeyFilter = {};
  const status = oneOf(q.status, STATUSES, 'status');
  const type = oneOf(q.type, TYPES, 'type');
  const within = queryInteger(q.expiringWithinDays, 'expiringWithinDays', 0, 36_500);
  const unused = queryInteger(q.unusedForDays, 'unusedForDays', 1, MAX_DAYS);
  const finding = oneOf(q.finding, [...FINDINGS] as Finding[], 'finding');
  const neverExpires = queryBoolean(q.neverExpires, 'neverExpires');
  if (status) filter.status = status;
  if (type) filter.type = type;
  if (q.owner !== undefined) filter.owner = q.owner;
  if (within !== undefined) filter.expiringWithinDays = within;
  if (unused !== undefined) filter.unusedForDays = unused;
  if (q.name !== undefined) filter.name = q.name;
  if (neverExpires) filter.neverExpires = true;
  if (finding) filter.finding = finding;
  if (q.sort !== undefined) filter.sort = invalidQueryAsUsage(() => parseSort(q.sort!));
  return { filter, q };
}

/** A bad value in a query string is the caller's mistake on the wire: invalid_query. */
function invalidQueryAsUsage<T>(parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof UsageError) throw new UsageError(error.message, { hint: error.hint, code: 'invalid_query' });
    throw error;
  }
}

export const keyRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/v1/keys',
    handler: async ({ service, query }) => {
      const { filter, q } = keyFilter(query);
      const page: { after?: string; limit?: number } = {};
      if (q.after !== undefined) page.after = q.after;
      const limit = queryInteger(q.limit, 'limit', 1, 1000);
      if (limit !== undefined) page.limit = limit;
      return service.listKeys(filter, page);
    },
  },
  {
    method: 'POST',
    pattern: '/v1/keys',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const type = f.string('type');
      if (!TYPES.includes(type as KeyType))
        throw new UsageError(`"type" must be access or api`, { code: 'invalid_body' });
      const input = {
        name: f.string('name'),
        description: f.optionalString('description'),
        type: type as KeyType,
        expiry: expiryFromWire(f.raw('expiry')),
        // absent: the acting user, when not an administrator (decided by the service)
        owner: f.raw('owner') === undefined ? undefined : f.nullableString('owner'),
        groups: f.stringList('groups'),
        roles: f.stringList('roles'),
        canary: f.optionalBoolean('canary'),
      };
      f.done();
      return created(await service.createKey(input));
    },
  },
  { method: 'GET', pattern: '/v1/keys/:ref', handler: async ({ service, params }) => service.showKey(params.ref!) },
  {
    method: 'DELETE',
    pattern: '/v1/keys/:ref',
    handler: async ({ service, params }) => service.deleteKey(params.ref!),
  },
  {
    method: 'POST',
    pattern: '/v1/keys/:ref/extend',
    handler: async ({ service, params, body }) => {
      const f = Fields.of(body);
      const expiry = expiryFromWire(f.raw('expiry'));
      f.done();
      return service.extendKey(params.ref!, expiry);
    },
  },
  {
    method: 'POST',
    pattern: '/v1/keys/:ref/edit',
    handler: async ({ service, params, body }) => {
      const f = Fields.of(body);
      const edit = { name: f.optionalString('name'), description: f.optionalString('description') };
      f.done();
      return service.editKey(params.ref!, edit);
    },
  },
  {
    method: 'POST',
    pattern: '/v1/keys/bulk',
    bodyLimit: BULK_BODY_LIMIT,
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const request = {
        action: bulkActionFromWire(f.raw('action')),
        keys: f.stringList('keys', MAX_BULK_KEYS),
        dryRun: f.raw('dryRun') === undefined ? false : f.boolean('dryRun'),
      };
      f.done();
      return service.bulkKeys(request);
    },
  },
  {
    method: 'POST',
    pattern: '/v1/keys/:ref/assign',
    handler: async ({ service, params, body }) => {
      const f = Fields.of(body);
      const changes = {
        addGroups: f.stringList('addGroups'),
        addRoles: f.stringList('addRoles'),
        removeGroups: f.stringList('removeGroups'),
        removeRoles: f.stringList('removeRoles'),
      };
      f.done();
      return service.assignKey(params.ref!, changes);
    },
  },
  {
    method: 'POST',
    pattern: '/v1/keys/:ref/rotate',
    handler: async ({ service, params, body }) => {
      const f = Fields.of(body);
      const grace = graceFromWire({
        graceMs: f.raw('graceMs'),
        grace: f.raw('grace'),
        quietForMs: f.raw('quietForMs'),
      });
      f.done();
      return service.rotateKey(params.ref!, grace);
    },
  },
  {
    method: 'POST',
    pattern: '/v1/keys/:ref/finish-grace',
    handler: async ({ service, params, body }) => {
      Fields.of(body).done();
      return service.finishGrace(params.ref!);
    },
  },
  {
    method: 'POST',
    pattern: '/v1/keys/:ref/status',
    handler: async ({ service, params, body }) => {
      const f = Fields.of(body);
      const status = f.string('status');
      if (status !== 'active' && status !== 'inactive')
        throw new UsageError('"status" must be active or inactive', { code: 'invalid_body' });
      // Bounds are the service's to check; only the shape is checked here.
      const forMs = f.optionalInteger('forMs', 0, Number.MAX_SAFE_INTEGER);
      f.done();
      if (forMs !== undefined && status !== 'inactive')
        throw new UsageError('"forMs" goes with "status":"inactive"', { code: 'invalid_body' });
      return service.setKeyStatus(params.ref!, status, forMs === undefined ? {} : { forMs });
    },
  },
  {
    method: 'GET',
    pattern: '/v1/keys/:ref/copy',
    handler: async ({ service, params }) => service.copyKey(params.ref!),
  },
  {
    method: 'GET',
    pattern: '/v1/keys/:ref/permissions',
    handler: async ({ service, params }) => service.keyPermissions(params.ref!),
  },
];
