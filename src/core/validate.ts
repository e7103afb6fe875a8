/** Validation of names, emails, tenant ids and permissions typed by people. */
import { UsageError } from './errors.js';

export const MAX_NAME_LENGTH = 64;
export const MAX_DESCRIPTION_LENGTH = 500;
const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
// A local part without spaces, angle brackets or quotes; a domain of dot-separated DNS labels.
const DNS_LABEL = '[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?';
const EMAIL = new RegExp(`^[^\\s@<>()[\\]\\\\,;:"]{1,64}@${DNS_LABEL}(?:\\.${DNS_LABEL})*$`);
const PERMISSION = /^(?:\*|[a-z][a-z0-9-]{0,31}:(?:\*|[a-z][a-z0-9-]{0,31}))$/;
// What a terminal would act on or that disguises text: control characters (C0, DEL, C1), bidi
// marks and overrides, zero-width characters, line and paragraph separators, the BOM.
const UNPRINTABLE_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ufeff';
const UNPRINTABLE = new RegExp(`[${UNPRINTABLE_CLASS}]`);
const UNPRINTABLE_ALL = new RegExp(`[${UNPRINTABLE_CLASS}]`, 'g');

export function isTenantId(text: string): boolean {
  return TENANT_ID.test(text);
}

export function tenantId(text: string): string {
  if (!isTenantId(text)) {
    throw new UsageError(`invalid tenant id "${printable(text)}"`, {
      hint: 'use 1-32 lower-case letters, digits and dashes, e.g. acme',
    });
  }
  return text;
}

/** A key, group or role name: 1-64 printable characters, no leading dash (it would read as a flag). */
export function entityName(text: string, what = 'name'): string {
  const name = text.normalize('NFC').trim();
  if (name.length === 0) throw new UsageError(`${what} must not be empty`);
  if (name.length > MAX_NAME_LENGTH)
    throw new UsageError(`${what} is too long (${name.length} characters; at most ${MAX_NAME_LENGTH})`);
  if (UNPRINTABLE.test(name)) throw new UsageError(`${what} must not contain control or invisible characters`);
  if (name.startsWith('-'))
    throw new UsageError(`${what} must not start with "-"`, { hint: 'a leading dash reads as an option' });
  if (name === '.' || name === '..')
    throw new UsageError(`${what} must not be "${name}"`, { hint: 'a URL path cannot carry it to a server' });
  if (/^AKM[A-Z2-7]{17}$/.test(name)) throw new UsageError(`${what} must not look like an access key id`);
  return name;
}

/** A key's description: one line of up to 500 printable characters; empty clears it. */
export function description(text: string): string {
  const value = text.normalize('NFC').trim();
  if (value.length > MAX_DESCRIPTION_LENGTH)
    throw new UsageError(`description is too long (${value.length} characters; at most ${MAX_DESCRIPTION_LENGTH})`);
  if (UNPRINTABLE.test(value)) throw new UsageError('description must not contain control or invisible characters');
  return value;
}

export function email(text: string): string {
  const value = text.trim();
  if (value.length > 254 || !EMAIL.test(value)) throw new UsageError(`invalid email address "${printable(value)}"`);
  return value.toLowerCase();
}

export function displayName(text: string): string {
  const value = text.normalize('NFC').trim();
  if (value.length > 128) throw new UsageError('display name is too long (at most 128 characters)');
  if (UNPRINTABLE.test(value)) throw new UsageError('display name must not contain control or invisible characters');
  return value;
}

export function permission(text: string): string {
  const value = text.trim();
  if (!PERMISSION.test(value)) {
    throw new UsageError(`invalid permission "${printable(value)}"`, {
      hint: 'use resource:action, e.g. keys:read or data:ingest, or *',
    });
  }
  return value;
}

/**
 * Neutralise what a terminal would interpret: control characters become \xNN / \uNNNN
 * escapes, so a name cannot move the cursor, clear the screen or fake other output.
 */
export function printable(text: string, max = 200): string {
  const escaped = text.replace(UNPRINTABLE_ALL, (c) => {
    const code = c.charCodeAt(0);
    return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
  return escaped.length > max ? `${escaped.slice(0, max)}…` : escaped;
}
