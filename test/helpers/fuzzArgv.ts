/**
 * Random and hostile command lines for the CLI fuzz tests: unknown flags, huge strings,
 * invalid UTF-8 bytes, escape sequences, option injection. Arguments are raw bytes, as a shell
 * passes them; `asArgv` turns them into what Node would hand to the program.
 */
import fc from 'fast-check';
import { commandPaths } from './akm.js';

/** An argument as raw bytes, so invalid UTF-8 reaches the process exactly as a shell would pass it. */
export type Arg = Buffer;

// Every command but those that reach outside the sandbox: serve runs until a signal, login
// talks to a server, logout would clear the keychain entry of the real "default" profile,
// store copy writes a new store wherever its second argument says.
const COMMANDS = [
  ...commandPaths()
    .map((c) => c.path)
    .filter((c) => !['serve', 'login', 'logout', 'store copy'].includes(c)),
  '',
];
const FLAGS = [
  '--name',
  '--type',
  '--expires-in',
  '--expires-on',
  '--never-expires',
  '--owner',
  '--tenant-level',
  '--group',
  '--role',
  '--days',
  '--until',
  '--never',
  '--grace',
  '--print',
  '--status',
  '--permission',
  '--remove-group',
  '--remove-role',
  '--yes',
  '--json',
  '--no-input',
  '--quiet',
  '--store',
  '--tenant',
  '--since',
  '--limit',
  '--within',
  '--dry-run',
  '--',
];

const text = (s: string): Arg => Buffer.from(s, 'utf8');
const hostile = fc.oneof(
  fc.constantFrom(...FLAGS).map(text),
  fc
    .constantFrom(
      '--frobnicate',
      '-Z',
      '---',
      '--name=--yes',
      '--owner=--tenant-level',
      '--json=1',
      '-yq',
      '--no-copy',
      '--store=',
    )
    .map(text),
  fc
    .constantFrom(
      '0',
      '-1',
      '1e9',
      'NaN',
      '99999999999999999999',
      '2027-02-30',
      '2020-01-01',
      '1h',
      '999d',
      'access',
      'api',
      'root',
    )
    .map(text),
  fc.constantFrom('Administrators', 'KeyManager', 'admin@acme.test', 'AKMAAAAAAAAAAAAAAAAA', 'target', 'x@y').map(text),
  fc.string({ maxLength: 30 }).map(text),
  fc.string({ unit: 'binary', maxLength: 20 }).map(text),
  fc.uint8Array({ minLength: 1, maxLength: 12 }).map((bytes) => Buffer.from(bytes)), // invalid UTF-8 most of the time
  fc
    .constantFrom(
      '\u001b[2J\u001b[H',
      '\u001b]0;owned\u0007',
      'a\u0000b',
      '\u202eevil',
      '$(reboot)',
      '`id`',
      '; rm -rf /',
      '%s%n',
    )
    .map(text),
  fc.integer({ min: 1_000, max: 100_000 }).map((n) => text('A'.repeat(n))),
);
export const hostileArgv = fc
  .tuple(fc.constantFrom(...COMMANDS), fc.array(hostile, { maxLength: 6 }))
  .map(([command, rest]) => [...command.split(' ').filter(Boolean).map(text), ...rest]);

/** What process.argv holds for these bytes: decoded as UTF-8, cut at a NUL (a C string ends there). */
export function asArgv(args: Arg[]): string[] {
  return args.map((a) => a.toString('utf8').split('\0')[0]!);
}

export function describe(args: Arg[]): string {
  return args.map((a) => JSON.stringify(a.toString('utf8').slice(0, 60))).join(' ');
}
