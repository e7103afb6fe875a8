/**
 * One (actor, operation, target) case: read the world from the store, ask the model, make the
 * call through the service (local, or remote through `akm serve`), and check the outcome, the
 * code, and that a refusal changed none of the tenant's rows and left one access.denied record
 * per denial. checkModel runs many generated worlds of such cases as a fast-check property.
 */
import type { ExecutionContext } from 'ava';
import fc from 'fast-check';
import type { AkmError } from '../../src/core/errors.js';
import type { AkmService } from '../../src/service/types.js';
import type { Store } from '../../src/store/types.js';
import { caseArb, concretize, perform, type Call, type CaseSpec } from './authzCalls.js';
import { actorsOf, judge, type Expected, type ModelActor } from './authzModel.js';
import { auditLines, readWorld, tenantDump, worldArb, type WorldSpec } from './authzWorld.js';
import { checkAsyncProperty, propertyConfig } from './property.js';

const EXIT: Record<Expected['kind'], number> = { done: 0, denied: 5, 'not found': 3, conflict: 4, usage: 2 };

export interface CaseEnv {
  /** reads the store as it is now (the same connection, or another one on the same store) */
  store: Store;
  tenantId: string;
  now: () => Date;
  withOperator: boolean;
  /** the calls go through `akm serve` */
  remote: boolean;
  /** the id of a key in another tenant */
  foreignKey: string;
  serviceFor(actor: ModelActor): AkmService | Promise<AkmService>;
  /** the world's secrets, by access key id: none may appear in a denial's audit record */
  secrets: ReadonlyMap<string, string>;
}

export interface CaseOutcome {
  op: Call['op'];
  expected: Expected['kind'];
  /** the code of a denial or conflict */
  code?: string;
  /** the secret a create or rotate returned, for the next calls signed with that key */
  issued?: { keyId: string; secretKey: string };
}

/** The rows one dump has and the other has not, table by table. */
function dumpDifference(before: Record<string, string[]>, after: Record<string, string[]>): string {
  const changes: string[] = [];
  for (const table of new Set([...Object.keys(before), ...Object.keys(after)])) {
    const was = new Set(before[table] ?? []);
    const is = new Set(after[table] ?? []);
    for (const row of was) if (!is.has(row)) changes.push(`${table} - ${row}`);
    for (const row of is) if (!was.has(row)) changes.push(`${table} + ${row}`);
  }
  return changes.join('\n    ');
}

function describe(actor: ModelActor, call: Call, expected: Expected): string {
  return `${actor.label} [${actor.permissions.join(' ') || 'no permissions'}] ${JSON.stringify(call)}: model says ${JSON.stringify(expected)}`;
}

/**
 * One (actor, operation, target) through the service; throws with the whole story when the model
 * disagrees. Null when nobody is left to act (every key of the world deactivated, expired or gone).
 */
export async function runCase(env: CaseEnv, spec: CaseSpec): Promise<CaseOutcome | null> {
  const world = await readWorld(env.store, env.tenantId, env.now());
  const actors = actorsOf(world, env.withOperator);
  if (actors.length === 0) return null;
  const actor = actors[spec.actor % actors.length]!;
  const call = concretize(world, actor, spec.call, env.foreignKey);
  const expected = judge(world, actor, call, env.remote);
  const story = describe(actor, call, expected);
  const before = await tenantDump(env.store, env.tenantId);
  const auditBefore = await auditLines(env.store, env.tenantId);

  let value: unknown;
  let error: AkmError | undefined;
  try {
    value = await perform(await env.serviceFor(actor), call);
  } catch (thrown) {
    if (typeof (thrown as AkmError).exitCode !== 'number') throw thrown;
    error = thrown as AkmError;
  }
  const got = error ? `exit ${error.exitCode} ${error.code}: ${error.message}` : 'done';
  const fail = (why: string) => new Error(`${why}\n  ${story}\n  service: ${got}`);

  if ((error?.exitCode ?? 0) !== EXIT[expected.kind]) throw fail('the service and the model disagree');
  if ((expected.kind === 'denied' || expected.kind === 'conflict') && error!.code !== expected.code)
    throw fail('the refusal has another code');
  if (expected.kind === 'done' && expected.keys) {
    const listed = [...(value as string[])].sort();
    if (JSON.stringify(listed) !== JSON.stringify([...expected.keys].sort()))
      throw fail(`the list shows ${JSON.stringify(listed)}`);
  }
  if (expected.kind !== 'done') {
    const after = await tenantDump(env.store, env.tenantId);
    if (JSON.stringify(after) !== JSON.stringify(before))
      throw fail(`a refused call changed the tenant: ${dumpDifference(before, after)}`);
    const added = (await auditLines(env.store, env.tenantId)).slice(auditBefore.length);
    const codes = expected.kind === 'denied' ? (expected.codes ?? [expected.code]) : [];
    if (added.length !== codes.length) throw fail(`${added.length} audit records added`);
    added.forEach((record, i) => {
      const details = JSON.parse(record.details) as { code?: string; operation?: string };
      if (record.action !== 'access.denied' || details.code !== codes[i] || record.actor !== actor.label)
        throw fail(`the denial was audited as ${JSON.stringify(record)}`);
      const text = JSON.stringify(record);
      for (const secret of env.secrets.values()) if (text.includes(secret)) throw fail('a secret in the audit trail');
    });
    if (codes.length > 0 && error!.code !== codes[0]) throw fail('the refusal has another code');
  }
  const code = 'code' in expected ? { code: expected.code } : {};
  const secret = (value as { secretKey?: string } | undefined)?.secretKey;
  const issued = secret ? { issued: { keyId: (value as { accessKeyId: string }).accessKeyId, secretKey: secret } } : {};
  return { op: call.op, expected: expected.kind, ...code, ...issued };
}

/** Counts for t.log: cases by expected outcome and by operation. */
export class Tally {
  readonly outcomes = new Map<string, number>();
  readonly codes = new Map<string, number>();
  readonly ops = new Map<string, number>();
  cases = 0;
  skipped = 0;
  add(outcome: CaseOutcome | null): void {
    if (!outcome) {
      this.skipped++;
      return;
    }
    const count = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);
    this.cases++;
    count(this.outcomes, outcome.expected);
    if (outcome.code) count(this.codes, outcome.code);
    count(this.ops, outcome.op);
  }
  toString(): string {
    const list = (m: Map<string, number>) =>
      [...m]
        .sort((a, b) => b[1] - a[1])
        .map(([k, v]) => `${k} ${v}`)
        .join(', ');
    const skipped = this.skipped ? `, ${this.skipped} not run: nobody left to act` : '';
    return `${this.cases} cases${skipped} (${list(this.outcomes)}); codes: ${list(this.codes)}; operations: ${list(this.ops)}`;
  }
}

/** Calls made in each generated world. */
export const CALLS_PER_WORLD = 20;

/**
 * Generate `worlds` tenants with CALLS_PER_WORLD calls each, run them through `runWorld`, and log
 * the counts; fails if fewer than `minimum` calls were made (unless the count was scaled down).
 */
export async function checkModel(
  t: ExecutionContext,
  name: string,
  run: { worlds: number; minimum: number; scaled: boolean; shrink: boolean },
  runWorld: (spec: WorldSpec, cases: CaseSpec[], tally: Tally) => Promise<void>,
): Promise<Tally> {
  const tally = new Tally();
  const started = Date.now();
  const property = fc.asyncProperty(
    worldArb,
    fc.array(caseArb, { minLength: CALLS_PER_WORLD, maxLength: CALLS_PER_WORLD }),
    (spec, cases) => runWorld(spec, cases, tally),
  );
  await checkAsyncProperty(
    t,
    name,
    property,
    { ...propertyConfig(), numRuns: run.worlds },
    { endOnFailure: !run.shrink },
  );
  t.log(`${tally.toString()} in ${Date.now() - started} ms`);
  if (!run.scaled) t.true(tally.cases >= run.minimum, `${tally.cases} cases`);
  return tally;
}
