/**
 * The server's side of uses without HTTP: a LocalBackend on the store (as `akm serve` holds it)
 * whose verifications are noted by the real UsageBatcher and written when the test flushes, on
 * the test's clock. What `akm serve` does with a POST /v1/verify, minus the socket.
 */
import type { ExecutionContext } from 'ava';
import type { ForwardedSource } from '../../src/core/source.js';
import { LocalBackend } from '../../src/service/local/backend.js';
import { loadForVerification } from '../../src/service/local/verify.js';
import { checkCredentials } from '../../src/service/local/verify.js';
import { UsageBatcher } from '../../src/server/usage.js';
import type { VerifyResult } from '../../src/service/types.js';
import type { LocalService } from '../../src/service/local/service.js';
import type { Engine } from './engines.js';
import { Clock } from './service.js';
import { tempStore, type TempStore } from './store.js';

/** A fresh store on the engine, a clock starting now, and its administrator on that clock. */
export async function clockedStore(
  t: ExecutionContext,
  engine: Engine,
): Promise<{ store: TempStore; clock: Clock; admin: LocalService }> {
  const store = await tempStore(engine);
  t.teardown(store.cleanup);
  const clock = new Clock(new Date());
  const admin = await store.open(clock.now);
  t.teardown(() => admin.close());
  return { store, clock, admin };
}

export interface UsageRig {
  backend: LocalBackend;
  batcher: UsageBatcher;
  /** one verification through the server's decision, from `address` (default 10.1.1.1) */
  verify(
    key: { accessKeyId: string; secretKey: string },
    from?: { address?: string; userAgent?: string; source?: ForwardedSource },
  ): Promise<VerifyResult>;
  /** write what the batcher holds, as the server's timer does */
  flush(): Promise<void>;
}

export async function usageRig(t: ExecutionContext, store: TempStore, now: () => Date): Promise<UsageRig> {
  const errors: unknown[] = [];
  const sink = { backend: undefined as LocalBackend | undefined };
  const batcher = new UsageBatcher(
    {
      recordUses: (lastUsed, slots, waitMs) => sink.backend!.recordUses(lastUsed, slots, waitMs),
      recordCanaryTrips: (trips) => sink.backend!.recordCanaryTrips(trips),
    },
    (e) => errors.push(e),
  );
  const backend = await LocalBackend.open({
    store: store.location,
    masterKey: store.masterKeyOptions,
    now,
    recordUse: batcher.record,
    onCanary: batcher.noteCanary,
  });
  sink.backend = backend;
  t.teardown(() => backend.close());
  return {
    backend,
    batcher,
    verify: (key, from = {}) =>
      checkCredentials(
        backend.base,
        { ...key, ...(from.source ? { source: from.source } : {}) },
        (id) => loadForVerification(backend.base, id),
        { clientAddress: from.address ?? '10.1.1.1', userAgent: from.userAgent ?? null, path: 'verify' },
      ),
    flush: async () => {
      await batcher.flush();
      if (errors.length > 0) throw errors[0];
    },
  };
}
