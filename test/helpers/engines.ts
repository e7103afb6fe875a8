/**
 * The service-level suite runs against both store engines: `perEngine(title, body)` registers
 * the test once per engine, titled "… [sqlite]" and "… [postgres]", and hands the body its
 * engine. Without PostgreSQL (no AKM_TEST_PG_URL) the PostgreSQL variant is registered as
 * skipped, or as a failure under CI=true, where a missing service must not pass unnoticed.
 */
import test, { type ExecutionContext } from 'ava';
import type { Engine } from '../../src/store/types.js';
import { dropTestDatabase, postgresAvailable } from './pg.js';

export type { Engine };
export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

type Body = (t: ExecutionContext, engine: Engine) => Promise<void> | void;
type Register = typeof test | typeof test.serial;

const MISSING =
  'PostgreSQL is not available (apt-get install postgresql; npm test starts a cluster through scripts/test.sh)';

function register(run: Register, title: string, body: Body, engines: readonly Engine[]): void {
  for (const engine of engines) {
    const named = `${title} [${engine}]`;
    if (engine === 'postgres' && !postgresAvailable) {
      if (process.env.CI) run(named, (t) => t.fail(`CI: ${MISSING}`));
      else run.skip(named, () => {});
      continue;
    }
    run(named, (t) => body(t, engine));
  }
}

export function perEngine(title: string, body: Body, engines: readonly Engine[] = ENGINES): void {
  register(test, title, body, engines);
}

perEngine.serial = (title: string, body: Body, engines: readonly Engine[] = ENGINES): void =>
  register(test.serial, title, body, engines);

/** Only PostgreSQL: for what SQLite has no counterpart of (URLs, passwords, a server that goes away). */
export function postgresOnly(title: string, body: (t: ExecutionContext) => Promise<void> | void): void {
  register(test, title, (t) => body(t), ['postgres']);
}

if (postgresAvailable) test.after.always("drop this file's PostgreSQL database", dropTestDatabase);
