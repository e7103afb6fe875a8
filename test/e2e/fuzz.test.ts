/**
 * CLI fuzzing against the real binary, each argument passed byte for byte through a shell
 * (invalid UTF-8 included): what only a real process sees of argv. The many-case fuzzing,
 * with the error-code checks, runs in-process (test/cli/fuzz.test.ts) on the same generator.
 * Runs: AKM_FUZZ_RUNS (default 60 under CI, 20 elsewhere); seed: AKM_FUZZ_SEED.
 */
import test from 'ava';
import fc from 'fast-check';
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, Sandbox, type RunResult } from '../helpers/cli.js';
import { describe, hostileArgv, type Arg } from '../helpers/fuzzArgv.js';
import { snapshot } from '../helpers/snapshot.js';

const RUNS = Number(process.env.AKM_FUZZ_RUNS ?? (process.env.CI ? 60 : 20));
const SEED = Number(process.env.AKM_FUZZ_SEED ?? 20261126);
const DOCUMENTED = new Set([0, 2, 3, 4, 5, 6]);

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
  const cases = fc.sample(hostileArgv, { numRuns: RUNS, seed: SEED });
  t.log(`seed ${SEED}, ${cases.length} runs`);
  const codes = new Map<number, number>();
  let index = 0;
  // One case at a time: the store is shared, and a "changed nothing" check needs no other writer.
  for (const args of cases) {
    index++;
    const before = snapshot(box.storePath);
    const result = await runRaw(box, args);
    codes.set(result.code, (codes.get(result.code) ?? 0) + 1);
    const where = `case ${index} (seed ${SEED}): akm ${describe(args)}\n${result.stderr.slice(0, 500)}`;
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
