/**
 * fast-check settings shared by the property suites: a fixed seed under CI (so a red build is
 * reproducible), a fresh one elsewhere (so local runs explore), and the seed printed either way.
 *   AKM_PROPERTY_SEED  force a seed (replay a failure)
 *   AKM_PROPERTY_RUNS  runs per property (default 1000 in CI, 300 elsewhere)
 */
import fc from 'fast-check';
import type { ExecutionContext } from 'ava';

export const CI_SEED = 424242;

export interface PropertyConfig {
  seed: number;
  numRuns: number;
}

export function propertyConfig(env: NodeJS.ProcessEnv = process.env): PropertyConfig {
  const forced = env.AKM_PROPERTY_SEED ? Number(env.AKM_PROPERTY_SEED) : undefined;
  const seed =
    forced !== undefined && Number.isInteger(forced)
      ? forced
      : env.CI
        ? CI_SEED
        : (Date.now() ^ (process.pid << 8)) | 0;
  const runs = Number(env.AKM_PROPERTY_RUNS);
  const numRuns = Number.isInteger(runs) && runs > 0 ? runs : env.CI ? 1000 : 300;
  return { seed, numRuns };
}

/**
 * Run one property; log its run count and seed; on failure fail the test with fast-check's
 * report (counterexample, seed and path) and the command line that replays it.
 */
export function checkProperty<Ts>(
  t: ExecutionContext,
  name: string,
  property: fc.IProperty<Ts>,
  config = propertyConfig(),
): void {
  report(t, name, fc.check(property, { seed: config.seed, numRuns: config.numRuns }));
}

/** The same for a property that awaits (a service, a server); `options` e.g. stop shrinking early. */
export async function checkAsyncProperty<Ts>(
  t: ExecutionContext,
  name: string,
  property: fc.IAsyncProperty<Ts>,
  config = propertyConfig(),
  options: fc.Parameters<Ts> = {},
): Promise<void> {
  report(t, name, await fc.check(property, { ...options, seed: config.seed, numRuns: config.numRuns }));
}

function report<Ts>(t: ExecutionContext, name: string, details: fc.RunDetails<Ts>): void {
  if (details.failed) {
    const error = details.errorInstance instanceof Error ? `\n${details.errorInstance.message}` : '';
    t.fail(
      `${name}: property failed (seed ${details.seed}, path ${details.counterexamplePath ?? '?'}); replay with AKM_PROPERTY_SEED=${details.seed}\n${fc.defaultReportMessage(details) ?? ''}${error}`,
    );
    return;
  }
  t.log(`${name}: ${details.numRuns} runs passed (seed ${details.seed})`);
  t.pass();
}
