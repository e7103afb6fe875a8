/**
 * The service-level suite runs against both store engines: `perEngine(title, body)` registers
 * the test once per engine, titled "… [sqlite]" and "… [postgres]", and hands the body its
 * engine. The PostgreSQL variant needs the cluster scripts/test.sh starts: without it, it is
 * registered as skipped, or as a failure under CI=true (see services.ts).
 */
import test, { type ExecutionContext } from 'ava';
import type { Engine } from '../../src/store/types.js';
import { dropTestDatabase, postgresAvailable } from './pg.js';
import { needing, POSTGRES } from './services.js';

export type { Engine };
export const ENGINES: readonly Engine[] = ['sqlite', 'postgres'];

type Body = (t: ExecutionContext, engine: Engine) => Promise<void> | void;

function register(serial: boolean, title: string, body: Body, engines: readonly Engine[]): void {
  for (const engine of engines) {
    const named = `${title} [${engine}]`;
    const needs = needing(POSTGRES);
    const run: (title: string, body: (t: ExecutionContext) => Promise<void> | void) => void =
      engine === 'postgres' ? (serial ? needs.serial : needs) : serial ? test.serial : test;
    run(named, (t) => body(t, engine));
  }
}

export function perEngine(title: string, body: Body, engines: readonly Engine[] = ENGINES): void {
  register(false, title, body, engines);
}

perEngine.serial = (title: string, body: Body, engines: readonly Engine[] = ENGINES): void =>
  register(true, title, body, engines);

/** Only PostgreSQL: for what SQLite has no counterpart of (URLs, passwords, a server that goes away). */
export function postgresOnly(title: string, body: (t: ExecutionContext) => Promise<void> | void): void {
  register(false, title, (t) => body(t), ['postgres']);
}

/** One at a time: for tests that start several server processes each. */
postgresOnly.serial = (title: string, body: (t: ExecutionContext) => Promise<void> | void): void =>
  register(true, title, (t) => body(t), ['postgres']);

if (postgresAvailable) test.after.always("drop this file's PostgreSQL database", dropTestDatabase);
