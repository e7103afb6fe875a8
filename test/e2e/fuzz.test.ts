/**
 * CLI fuzzing against the real binary: random and hostile argv (unknown flags, huge strings,
 * invalid UTF-8 bytes, escape sequences, option injection). Never a stack trace, always a
 * documented exit code, never a secret on stderr, never a changed store after a refusal.
 * Runs: AKM_FUZZ_RUNS (default 300 under CI, 60 elsewhere); seed: AKM_FUZZ_SEED.
 */
import test from 'ava';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, Sandbox, type RunResult } from '../helpers/cli.js';
import { snapshot } from '../helpers/snapshot.js';

const RUNS = Number(process.env.AKM_FUZZ_RUNS ?? (process.env.CI ? 300 : 60));
const SEED = Number(process.env.AKM_FUZZ_SEED ?? 20261126);
const DOCUMENTED = new Set([0, 2, 3, 4, 5, 6]);

/** An argument as raw bytes, so invalid UTF-8 reaches the process exactly as a shell would pass it. */
type Arg = Buffer;

const COMMANDS = [
  'create',
  'list',
  'show',
  'extend',
  'assign',
  'rotate',
  'copy',
  'activate',
  'deactivate',
  'delete',
  'permissions',
  'verify',
  'users add',
  'users list',
  'users remove',
  'groups create',
  'groups add-member',
  'groups add-role',
  'groups delete',
  'roles create',
  'roles delete',
  'completion',
  'init',
  'notifications',
  'audit',
  'audit verify',
  'whoami',
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
const argv = fc
  .tuple(fc.constantFrom(...COMMANDS), fc.array(hostile, { maxLength: 6 }))
  .map(([command, rest]) => [...command.split(' ').filter(Boolean).map(text), ...rest]);

/** bash receives each argument as $'\xNN…', so every byte arrives as generated. */
function runRaw(box: Sandbox, args: Arg[]): Promise<RunResult> {
  const quoted = args.map((a) => `$'${[...a].map((b) => `\\x${b.toString(16).padStart(2, '0')}`).join('')}'`).join(' ');
  // A script file, not `bash -c`: the escaped form of a 100 kB argument exceeds one argv string's limit.
  const script = join(box.home, 'fuzz-case.sh');
  writeFileSync(script, `exec "$1" "$2" ${quoted}\n`);
  return new Promise((resolve, reject) => {
    const child = spawn('bash', [script, process.execPath, BIN], { env: box.env(), timeout: 30_000 });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code: code ?? (signal ? -1 : 1), stdout, stderr }));
    child.stdin.end();
  });
}

test('random and hostile argv never crash, leak or change the store on refusal', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const secret = (await box.json(['create', '--name', 'target', '--tenant-level', '--expires-in', '30', '--no-copy']))
    .value.secretKey as string;
  const cases = fc.sample(argv, { numRuns: RUNS, seed: SEED });
  t.log(`seed ${SEED}, ${cases.length} runs`);
  const codes = new Map<number, number>();
  let index = 0;
  // One case at a time: the store is shared, and a "changed nothing" check needs no other writer.
  for (const args of cases) {
    index++;
    const before = snapshot(box.storePath);
    const result = await runRaw(box, args);
    codes.set(result.code, (codes.get(result.code) ?? 0) + 1);
    const shown = args.map((a) => JSON.stringify(a.toString('utf8').slice(0, 60))).join(' ');
    const where = `case ${index} (seed ${SEED}): akm ${shown}\n${result.stderr.slice(0, 500)}`;
    if (!DOCUMENTED.has(result.code)) t.fail(`undocumented exit ${result.code}: ${where}`);
    if (/\n\s+at .+:\d+:\d+/.test(result.stderr)) t.fail(`stack trace: ${where}`);
    if (result.stderr.includes(secret) || result.stderr.includes(secret.slice(5, 30)))
      t.fail(`secret on stderr: ${where}`);
    if (result.code !== 0 && snapshot(box.storePath) !== before) t.fail(`refused command changed the store: ${where}`);
  }
  t.log(
    `exit codes: ${[...codes.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([c, n]) => `${c}×${n}`)
      .join(' ')}`,
  );
  t.pass();
});
