/**
 * `akm list --name GLOB`: `*` any run of characters, `?` one character, `[abc]` / `[a-z]` /
 * `[!abc]` one of (or none of) a set, `\` takes the next character literally. Case-insensitive,
 * like the uniqueness of key names; the whole name must match.
 */
import { UsageError } from './errors.js';

export const MAX_GLOB_LENGTH = 256;

/** A character taken literally; in a set, a dash too (`-` may only be escaped there under the u flag). */
function escapeRegExp(char: string, inSet = false): string {
  return /[\\^$.*+?()[\]{}|/]/.test(char) || (inSet && char === '-') ? `\\${char}` : char;
}

function bracket(pattern: string, start: number): { source: string; end: number } {
  let i = start + 1;
  let negate = false;
  if (pattern[i] === '!' || pattern[i] === '^') {
    negate = true;
    i += 1;
  }
  let body = '';
  // A "]" right after the opening bracket is a member, as in shells.
  for (let first = true; i < pattern.length && (pattern[i] !== ']' || first); i += 1, first = false) {
    const char = pattern[i]!;
    if (char === '\\' && i + 1 < pattern.length) body += escapeRegExp(pattern[++i]!, true);
    else if (char === '-' && !first && pattern[i + 1] !== ']') body += '-';
    else body += escapeRegExp(char, true);
  }
  if (i >= pattern.length) throw new UsageError(`--name: unclosed "[" in "${pattern.slice(0, 60)}"`);
  return { source: `[${negate ? '^' : ''}${body}]`, end: i };
}

export function globToRegExp(pattern: string): RegExp {
  if (pattern.length === 0) throw new UsageError('--name needs a pattern, e.g. "ci-*"');
  if (pattern.length > MAX_GLOB_LENGTH)
    throw new UsageError(`--name pattern is too long (at most ${MAX_GLOB_LENGTH} characters)`);
  let source = '';
  for (let i = 0; i < pattern.length; i += 1) {
    const char = pattern[i]!;
    if (char === '*') {
      // Runs of stars mean the same as one, and keep the expression small.
      if (!source.endsWith('.*')) source += '.*';
    } else if (char === '?') source += '.';
    else if (char === '[') {
      const part = bracket(pattern, i);
      source += part.source;
      i = part.end;
    } else if (char === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else source += escapeRegExp(char);
  }
  try {
    return new RegExp(`^${source}$`, 'isu');
  } catch {
    throw new UsageError(`--name: cannot read the pattern "${pattern.slice(0, 60)}"`);
  }
}

export function globMatcher(pattern: string): (name: string) => boolean {
  const regexp = globToRegExp(pattern.normalize('NFC'));
  return (name) => regexp.test(name.normalize('NFC'));
}
