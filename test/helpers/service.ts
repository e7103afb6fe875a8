/** Helpers for the service layer: a movable clock, typed-error assertions, audit queries, bulk seeding. */
import type { ExecutionContext } from 'ava';
import { type AkmError } from '../../src/core/errors.js';
import { deriveKeys, type DerivedKeys } from '../../src/crypto/keys.js';
import { writing } from '../../src/service/local/context.js';
import { insertPlannedKey, planKey } from '../../src/service/local/createKey.js';
import type { LocalService } from '../../src/service/local/service.js';
import type { CreateKeyInput, IssuedKey } from '../../src/service/types.js';
import type { TempStore } from './store.js';

export const DAY = 86_400_000;
export const HOUR = 3_600_000;

/** A clock the test moves by hand: `now` is what the service reads. */
export class Clock {
  private at: number;
  constructor(start: Date | string = '2026-05-01T09:00:00.000Z') {
    this.at = new Date(start).getTime();
  }
  readonly now = (): Date => new Date(this.at);
  advance(ms: number): void {
    this.at += ms;
  }
  set(at: Date | string): void {
    this.at = new Date(at).getTime();
  }
}

export function keysOf(store: TempStore): DerivedKeys {
  return deriveKeys(Buffer.from(store.masterKey, 'base64'));
}

export function keyInput(overrides: Partial<CreateKeyInput> = {}): CreateKeyInput {
  return {
    name: 'ci',
    type: 'access',
    expiry: { kind: 'days', days: 30 },
    owner: null,
    groups: [],
    roles: [],
    ...overrides,
  };
}

/** Await a refusal and check its class, exit code and (optionally) code; returns it for more checks. */
export async function refusal<E extends AkmError>(
  t: ExecutionContext,
  work: () => Promise<unknown>,
  expected: { instanceOf: abstract new (...args: never[]) => E; exitCode: number; code?: string; message?: RegExp },
): Promise<E> {
  const error = await t.throwsAsync(work, {
    instanceOf: expected.instanceOf,
  });
  if (!error) return undefined as unknown as E;
  t.is(error.exitCode, expected.exitCode, error.message);
  if (expected.code) t.is(error.code, expected.code, error.message);
  if (expected.message) t.regex(error.message, expected.message);
  return error;
}

export interface AuditRecord {
  seq: number;
  action: string;
  target: string | null;
  actor: string;
  source: string;
  details: string;
}

export async function auditRecords(service: LocalService, action?: string): Promise<AuditRecord[]> {
  const rows = await service.ctx.store.read((q) =>
    q.all<AuditRecord>('SELECT seq, action, target, actor, source, details FROM audit ORDER BY seq'),
  );
  return action ? rows.filter((r) => r.action === action) : rows;
}

/** Many keys in one transaction (one commit): the real create path, planned and inserted as createKey does. */
export async function createMany(
  service: LocalService,
  count: number,
  input: (i: number) => CreateKeyInput,
): Promise<IssuedKey[]> {
  const keys = await service.ctx.loadKeys();
  return writing(service.ctx, async (s) => {
    const out: IssuedKey[] = [];
    for (let i = 0; i < count; i++) out.push(await insertPlannedKey(s, planKey(s, keys, input(i))));
    return out;
  });
}
