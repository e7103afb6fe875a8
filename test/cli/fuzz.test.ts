/**
 * CLI fuzzing in-process (the raw-byte variant through a shell is test/e2e/fuzz.test.ts):
 * random and hostile argv never give a stack trace or an undocumented exit code, never put a
 * secret on stderr, never change the store when refused, and under --json every error carries
 * a code from the README's list, with the exit code the list gives it.
 * Runs: AKM_FUZZ_RUNS (default 1000 under CI, 300 elsewhere); seed: AKM_FUZZ_SEED.
 */
import test from 'ava';
import fc from 'fast-check';
import { isErrorCode } from '../../src/core/errors.js';
import { Sandbox } from '../helpers/cli.js';
import { documentedErrorCodes } from '../helpers/errorCodes.js';
import { asArgv, describe, hostileArgv } from '../helpers/fuzzArgv.js';
import { snapshot } from '../helpers/snapshot.js';

const RUNS = Number(process.env.AKM_FUZZ_RUNS ?? (process.env.CI ? 1000 : 300));
const SEED = Number(process.env.AKM_FUZZ_SEED ?? 20261126);
const DOCUMENTED = new Set([0, 2, 3, 4, 5, 6]);

test('random and hostile argv never crash, leak or change the store on refusal; every error code is listed', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const created = await box.akmJson([
    'create',
    '--name',
    'target',
    '--tenant-level',
    '--expires-in',
    '30',
    '--no-copy',
  ]);
  const secret = created.value.secretKey as string;
  const documented = documentedErrorCodes();
  const cases = fc.sample(hostileArgv, { numRuns: RUNS, seed: SEED });
  t.log(`seed ${SEED}, ${cases.length} runs`);
  const exits = new Map<number, number>();
  const codes = new Set<string>();
  let index = 0;
  // One case at a time: the store is shared, and a "changed nothing" check needs no other writer.
  for (const bytes of cases) {
    index++;
    const args = asArgv(bytes);
    const where = (stderr: string) => `case ${index} (seed ${SEED}): akm ${describe(bytes)}\n${stderr.slice(0, 500)}`;
    for (const json of [false, true]) {
      const before = snapshot(box.storePath);
      const result = await box.akm(json ? ['--json', ...args] : args);
      exits.set(result.code, (exits.get(result.code) ?? 0) + 1);
      if (!DOCUMENTED.has(result.code)) t.fail(`undocumented exit ${result.code}: ${where(result.stderr)}`);
      if (/\n\s+at .+:\d+:\d+/.test(result.stderr)) t.fail(`stack trace: ${where(result.stderr)}`);
      if (result.stderr.includes(secret) || result.stderr.includes(secret.slice(5, 30)))
        t.fail(`secret on stderr: ${where(result.stderr)}`);
      if (result.code !== 0 && snapshot(box.storePath) !== before)
        t.fail(`refused command changed the store: ${where(result.stderr)}`);
      if (json && result.code !== 0) {
        const last = result.stderr.trimEnd().split('\n').pop() ?? '';
        let code: unknown;
        try {
          code = (JSON.parse(last) as { error: { code: unknown } }).error.code;
        } catch {
          t.fail(`no JSON error on stderr: ${where(result.stderr)}`);
        }
        if (typeof code !== 'string' || !isErrorCode(code))
          t.fail(`unlisted error code ${String(code)}: ${where(result.stderr)}`);
        else if (documented.get(code)?.exit !== result.code)
          t.fail(
            `${code} exits ${result.code}, the README says ${documented.get(code)?.exit}: ${where(result.stderr)}`,
          );
        else codes.add(code);
      }
    }
  }
  t.log(
    `exit codes: ${[...exits.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([c, n]) => `${c}×${n}`)
      .join(' ')}`,
  );
  t.log(`error codes seen: ${[...codes].sort().join(' ')}`);
  t.true(codes.size >= 10, 'the fuzzer reaches many different refusals');
});
