/** Validation of names, emails, tenant ids, key references and permissions typed by people. */
import { domainToASCII, domainToUnicode } from 'node:url';
import { looksSecret } from './credentials.js';
import { UsageError } from './errors.js';
import { lazy } from './lazy.js';

export const MAX_NAME_LENGTH = 64;
export const MAX_DESCRIPTION_LENGTH = 500;
const TENANT_ID = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
const PERMISSION = /^(?:\*|[a-z][a-z0-9-]{0,31}:(?:\*|[a-z][a-z0-9-]{0,31}))$/;
// What a terminal would act on or that disguises text: control characters (C0, DEL, C1), bidi
// marks and overrides, zero-width characters, line and paragraph separators, the BOM.
const UNPRINTABLE_CLASS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200b-\\u200f\\u2028-\\u202e\\u2066-\\u2069\\ufeff';
const UNPRINTABLE = new RegExp(`[${UNPRINTABLE_CLASS}]`);
const UNPRINTABLE_ALL = new RegExp(`[${UNPRINTABLE_CLASS}]`, 'g');

/**
 * What nobody sees on a screen: control and format characters (bidi marks, zero-width ones),
 * spaces and separators, private-use, surrogate and unassigned code points, the default-ignorable
 * ones (fillers such as U+3164) and U+2800, the blank braille pattern. `spaces: true` lets the
 * plain space through, for text in which words are expected.
 */
const invisible = lazy(() => {
  const set = '[\\p{Cc}\\p{Cf}\\p{Z}\\p{Co}\\p{Cs}\\p{Cn}\\p{Default_Ignorable_Code_Point}\\u2800]';
  const butSpace = `(?! )${set}`;
  return {
    any: new RegExp(set, 'u'),
    every: new RegExp(set, 'gu'),
    anyButSpace: new RegExp(butSpace, 'u'),
    everyButSpace: new RegExp(butSpace, 'gu'),
  };
});

export function hasInvisible(text: string, options: { spaces?: boolean } = {}): boolean {
  return (options.spaces ? invisible().anyButSpace : invisible().any).test(text);
}

export function replaceInvisible(text: string, by: (c: string) => string, options: { spaces?: boolean } = {}): string {
  return text.replace(options.spaces ? invisible().everyButSpace : invisible().every, by);
}

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

/**
 * E-mail addresses: one grammar for every place a person types one (init --admin, users add,
 * --owner, --user, lookups).
 *   address  local "@" domain, at most 254 characters
 *   local    1-64 bytes of letters, marks and digits of any script and ! # $ % & ' * + - / = ? ^ _ ` { | } ~,
 *            in dot-separated runs (no leading, trailing or doubled dot); no quoting, no comments
 *   domain   dot-separated labels of letters, marks, digits (any script) and hyphens, or their
 *            IDNA ASCII form (xn--…); valid under IDNA, each label 1-63 characters in ASCII form
 *            and not starting or ending with a hyphen
 * Nowhere: control characters, format characters (bidi marks, zero-width characters), spaces
 * and separators, or anything else that is invisible. Mail software strips or maps such
 * characters, so the mail would go to another mailbox than the one shown. The address is
 * kept lower-cased, NFC-normalised, with its domain in Unicode form (so both spellings of an
 * IDNA domain are one user).
 */
export function email(text: string): string {
  // Only what a paste adds at the ends is trimmed: an invisible character there is refused too.
  const value = text
    .normalize('NFC')
    .replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '')
    .toLowerCase();
  // Shown with every invisible character spelled out: those are the ones people cannot see.
  const shown = printable(replaceInvisible(value, (c) => `\\u{${c.codePointAt(0)!.toString(16)}}`));
  const invalid = () => new UsageError(`invalid email address "${shown}"`, { hint: EMAIL_HINT });
  if (value.length > 254 || hasInvisible(value)) throw invalid();
  const at = value.lastIndexOf('@');
  const [local, domain] = [value.slice(0, at), value.slice(at + 1)];
  if (at < 1 || !localPart().test(local) || Buffer.byteLength(local) > 64) throw invalid();
  const ascii = domainToASCII(domain);
  const unicode = domainToUnicode(ascii);
  // IDNA maps some characters to others (full-width letters, say): only what needs no mapping is taken.
  if (!ascii || (ascii !== domain && unicode !== domain) || ascii.length > 253) throw invalid();
  if (!ascii.split('.').every((label) => DOMAIN_LABEL.test(label))) throw invalid();
  return `${local}@${unicode}`;
}

const LOCAL_CHAR = "[\\p{L}\\p{M}\\p{N}!#$%&'*+\\-/=?^_`{|}~]";
// Built on first use, like the patterns below: a Unicode property class takes a millisecond to build.
const localPart = lazy(() => new RegExp(`^${LOCAL_CHAR}+(?:\\.${LOCAL_CHAR}+)*$`, 'u'));
const DOMAIN_LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
const EMAIL_HINT = 'e.g. alice@acme.test; see "E-mail addresses" in the README for what an address may hold';

/**
 * A `<key>` argument: an access key id or a key name. Something shaped like a secret or a
 * whole key string is refused before it is looked up or sent anywhere, and never echoed.
 */
export function keyReference(text: string): string {
  if (looksSecret(text)) {
    throw new UsageError(
      'the <key> argument looks like a secret key or a key string; it was not used or sent anywhere',
      {
        hint:
          "pass the access key id (AKM…) or the key's name; " +
          'if the secret is now in your shell history, rotate the key',
        code: 'secret_in_argument',
      },
    );
  }
  return text.trim();
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
