/**
 * The fields of a key as JSON names them, and what `akm list` may sort by (`--sort FIELD[:desc]`)
 * and show (`--columns a,b,c`). Pure: flags in, checked choices out.
 */
import { UsageError } from './errors.js';
import { notOneOf } from './suggest.js';

export const KEY_FIELDS = [
  'accessKeyId',
  'name',
  'description',
  'type',
  'status',
  'tenantId',
  'owner',
  'groups',
  'roles',
  'createdAt',
  'createdBy',
  'modifiedAt',
  'modifiedBy',
  'expiresAt',
  'lastUsedAt',
  'secretCreatedAt',
  'inactiveUntil',
  'canary',
] as const;
export type KeyField = (typeof KEY_FIELDS)[number];

/** Lists have no order of their own to sort by, and canary keys are found with --finding or by name. */
export const SORT_FIELDS = KEY_FIELDS.filter(
  (f): f is Exclude<KeyField, 'groups' | 'roles' | 'canary'> => f !== 'groups' && f !== 'roles' && f !== 'canary',
);
export type SortField = (typeof SORT_FIELDS)[number];

export interface KeySort {
  field: SortField;
  descending: boolean;
}

/**
 * `expiresAt`, `expiresAt:desc`, `name:asc`. Keys that never expire sort after every date, and
 * keys never used before every date (so `lastUsedAt` ascending starts with the unused ones).
 */
export function parseSort(text: string): KeySort {
  const [field = '', direction = 'asc', ...rest] = String(text).trim().split(':');
  if (rest.length > 0 || (direction !== 'asc' && direction !== 'desc'))
    throw new UsageError(`--sort: "${text.slice(0, 60)}" is not FIELD or FIELD:desc`, {
      hint: 'e.g. --sort expiresAt:desc',
      code: 'invalid_argument',
    });
  if (!(SORT_FIELDS as readonly string[]).includes(field)) throw notOneOf('--sort', field, SORT_FIELDS);
  return { field: field as SortField, descending: direction === 'desc' };
}

export function formatSort(sort: KeySort): string {
  return `${sort.field}${sort.descending ? ':desc' : ''}`;
}

/** `--columns accessKeyId,name,expiresAt`: each a key field, each once, in the order given. */
export function parseColumns<F extends string>(text: string, allowed: readonly F[], flag = '--columns'): F[] {
  const columns = String(text)
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c.length > 0);
  if (columns.length === 0)
    throw new UsageError(`${flag} needs at least one field`, { hint: `e.g. ${flag} accessKeyId,name,expiresAt` });
  for (const column of columns)
    if (!(allowed as readonly string[]).includes(column)) throw notOneOf(flag, column, allowed);
  return [...new Set(columns)] as F[];
}
