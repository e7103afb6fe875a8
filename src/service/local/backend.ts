/**
 * The local service as `akm serve` holds it: one store for every request, and the few things
 * the server does besides calling AkmService (looking up the key that signed a request,
 * feeding the verify cache, writing lastUsedAt notes and failed sign-ins in batches, replay
 * tokens and failure counts shared by every server on the store, the periodic sweep, running
 * the expiry job per tenant). The server reaches the store only through here. The keys are
 * loaded when it opens, so every row it reads is checked against its integrity MAC.
 */
import type { DerivedKeys } from '../../crypto/keys.js';
import type { MasterKeyOptions } from '../../crypto/masterKey.js';
import type { MailSettings } from '../../notify/smtp.js';
import { appendAudit, type AuditEntry } from '../../store/audit.js';
import { addFailures, failuresSince, purgeFailures } from '../../store/failureCounts.js';
import { eraseEndedGraces } from '../../store/integrity.js';
import { noteQuietUse } from '../../core/grace.js';
import type { Slot, Use } from '../../core/usage.js';
import { extendQuiet, getKeyById, setLastUsed, type KeyRow } from '../../store/keys.js';
import { addTallies } from '../../store/usage.js';
import { countWaiting, nextDue } from '../../store/webhooks.js';
import { openStore } from '../../store/open.js';
import { depthByKind } from '../../store/outbox.js';
import { purgeTokens, rememberToken } from '../../store/replayTokens.js';
import { getTenant, listTenants, type TenantRow } from '../../store/tenants.js';
import type { ChangeFeed, Queryable, Store, StoreStatus } from '../../store/types.js';
import { keyActor, operatorActor, type Actor } from './actor.js';
import { deliverAlertMail } from './alertMail.js';
import { recordCanaryTrips } from './canary.js';
import type { CanaryTrip, LocalContext } from './context.js';
import { graceOf } from './keyState.js';
import { settleLapses } from './lapses.js';
import { deliverWebhooks, type DeliveryCounts } from './webhookDelivery.js';
import { lazyKeys, LocalService, resolveTenant } from './service.js';
import { loadForVerification, unlessTampered, type KeyForVerification } from './verify.js';

export type { KeyForVerification } from './verify.js';
export type { KeyRow } from '../../store/keys.js';
export type { TenantRow } from '../../store/tenants.js';
export type { AuditEntry } from '../../store/audit.js';
export type { ChangeFeed, StoreStatus } from '../../store/types.js';

export interface BackendOptions {
  store: string;
  masterKey: MasterKeyOptions;
  now?: () => Date;
  env?: NodeJS.ProcessEnv;
  /** uses and refusals seen by verifications and sign-ins (the server tallies them and writes them in batches) */
  recordUse: (use: Use) => void;
  /** attempts on canary keys (the server notes them and records them in batches) */
  onCanary: (trip: CanaryTrip) => void;
}

export class LocalBackend {
  private constructor(
    readonly base: LocalContext,
    /** loaded at start: a wrong or missing master key stops the server before it listens */
    readonly keys: DerivedKeys,
  ) {}

  static async open(options: BackendOptions): Promise<LocalBackend> {
    const store = await openStore(options.store, { busyTimeoutMs: 5000, server: true, env: options.env });
    try {
      const { tenant, actor } = await store.read(async (q) => {
        const tenant = await resolveTenant(q, undefined);
        return { tenant, actor: await operatorActor(q, tenant) };
      });
      const loadKeys = lazyKeys(store, options.masterKey);
      const base: LocalContext = {
        store,
        tenant,
        actor,
        now: options.now ?? (() => new Date()),
        masterKey: options.masterKey,
        loadKeys,
        source: 'http',
        recordUse: options.recordUse,
        onCanary: options.onCanary,
      };
      return new LocalBackend(base, await loadKeys());
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  get store(): Store {
    return this.base.store;
  }

  /** The service acting as the key that signed a request. */
  serviceFor(tenant: TenantRow, actor: Actor, source: string): LocalService {
    return LocalService.withActor(this.base, tenant, actor, source);
  }

  /** The service acting as a tenant's operator, for jobs the server runs itself. */
  async operatorService(tenant: TenantRow, source: string, mail: MailSettings | null): Promise<LocalService> {
    const actor = await this.base.store.read((q) => operatorActor(q, tenant));
    return new LocalService({ ...this.base, tenant, actor, source }, false, mail);
  }

  tenants(): Promise<TenantRow[]> {
    return this.base.store.read((q) => listTenants(q));
  }

  /**
   * The key a request claims to be signed by (any tenant: the id arrives before the tenant is
   * known); null when its row was altered at rest.
   */
  signingKey(accessKeyId: string): Promise<KeyRow | null | undefined> {
    return this.base.store.read((q) => unlessTampered(() => getKeyById(q, accessKeyId)));
  }

  /**
   * The tenant and the acting identity of a key whose signature has been checked; the actor is
   * null when a row it depends on (its owner, a role, a group) was altered at rest.
   */
  actingAs(key: KeyRow): Promise<{ tenant: TenantRow | undefined; actor: Actor | null }> {
    return this.base.store.read(async (q) => ({
      tenant: await getTenant(q, key.tenant_id),
      actor: await unlessTampered(() => keyActor(q, key)),
    }));
  }

  loadForVerification(accessKeyId: string): Promise<KeyForVerification> {
    return loadForVerification(this.base, accessKeyId);
  }

  /** How the verify cache learns that what it holds may have changed. */
  changes(): ChangeFeed {
    return this.base.store.changes();
  }

  /**
   * A batch of uses, in one transaction (waiting for other writers at most `waitMs`): each key's
   * lastUsedAt, each secret's sources (store/usage.ts), and for an automatic grace the quiet
   * period moved on by uses of the old secret. Returns the keys whose grace moved, whose cached
   * rows are then stale.
   */
  async recordUses(lastUsed: Map<string, string>, slots: Slot[], waitMs: number): Promise<Set<string>> {
    // In id order: two servers flushing overlapping notes lock the rows in the same order.
    const ordered = [...lastUsed].sort(([a], [b]) => (a < b ? -1 : 1));
    const bySlot = [...slots].sort((a, b) => (a.accessKeyId < b.accessKeyId ? -1 : 1));
    return this.base.store.write(
      null,
      async (tx) => {
        for (const [id, at] of ordered) await setLastUsed(tx, id, at);
        const moved = new Set<string>();
        for (const slot of bySlot) {
          await addTallies(tx, slot);
          if (slot.kind === 'use' && (await this.extendGrace(tx, slot))) moved.add(slot.accessKeyId);
        }
        return moved;
      },
      { waitMs, now: this.base.now() },
    );
  }

  /**
   * Uses of a previous secret move its automatic grace on. The row is read with its integrity
   * check first: a grace altered at rest is left as it is (it verifies as nothing), never resealed.
   */
  private async extendGrace(tx: Queryable, slot: Slot): Promise<boolean> {
    const row = await unlessTampered(() => getKeyById(tx, slot.accessKeyId));
    if (!row || slot.generation !== row.secret_generation - 1 || row.grace_quiet_ms === null) return false;
    const last = slot.tallies.reduce((at, t) => (t.lastSeen > at ? t.lastSeen : at), '');
    const next = noteQuietUse(graceOf(row), last).quietUntil;
    if (next === null || next === row.previous_quiet_until) return false;
    return extendQuiet(tx, row.id, row.secret_generation, last, next);
  }

  /** Attempts on canary keys; returns the tenants that alerted (their mail and webhooks are due now). */
  recordCanaryTrips(trips: CanaryTrip[]): Promise<Set<string>> {
    return recordCanaryTrips(this.base, trips);
  }

  /** Webhook events due now, of every tenant; nothing (not even a write) when none is due. */
  async deliverWebhooks(): Promise<DeliveryCounts | null> {
    const due = await this.base.store.read((q) => nextDue(q));
    if (due === null || due > this.base.now().toISOString()) return null;
    return deliverWebhooks({ store: this.base.store, keys: this.keys, now: this.base.now }, null);
  }

  /** Deliveries still waiting, in every tenant (a gauge for the log). */
  webhooksWaiting(): Promise<number> {
    return this.base.store.read((q) => countWaiting(q, null));
  }

  /** The canary alarm's mail of a tenant. */
  deliverAlertMail(tenantId: string, mail: MailSettings): Promise<{ sent: number; failed: number }> {
    return deliverAlertMail(this.base.store, tenantId, mail, this.base.now);
  }

  /** Audit records the server writes on its own behalf (failed sign-ins), in one transaction. */
  async appendAudit(entries: AuditEntry[]): Promise<void> {
    await this.base.store.write(null, async (tx) => {
      for (const entry of entries) await appendAudit(tx, this.keys.audit, entry);
    });
  }

  /** Remember a replay token unless it is remembered and live: true when the request is fresh (replayTokens.ts). */
  rememberToken(token: Buffer, expiresAtMs: number, nowMs: number): Promise<boolean> {
    return rememberToken(this.base.store, token, expiresAtMs, nowMs);
  }

  /** Failed sign-ins of a scope since a minute, summed over every server on the store. */
  failuresSince(scope: string, fromMinute: number): Promise<number> {
    return this.base.store.read((q) => failuresSince(q, scope, fromMinute));
  }

  /**
   * A server's failure counts (scope → minute → count), in one transaction; older minutes go.
   * Waits for other writers at most `waitMs`.
   */
  async addFailures(
    counts: Map<string, Map<number, number>>,
    purgeBeforeMinute: number,
    waitMs: number,
  ): Promise<void> {
    // In scope order: two servers adding overlapping counts lock the rows in the same order.
    const scopes = [...counts].sort(([a], [b]) => (a < b ? -1 : 1));
    await this.base.store.write(
      null,
      async (tx) => {
        for (const [scope, minutes] of scopes) {
          for (const [minute, n] of minutes) await addFailures(tx, scope, minute, n);
        }
        await purgeFailures(tx, purgeBeforeMinute);
      },
      { waitMs },
    );
  }

  /**
   * Once a minute, even when nothing else writes: previous secrets whose grace has ended are
   * erased in every tenant (store/integrity.ts) and, with the brownouts that ended, recorded
   * (lapses.ts); replay tokens and failure counts past their use go.
   */
  async sweep(nowMs: number): Promise<void> {
    const now = new Date(nowMs);
    await this.base.store.write(
      null,
      async (tx) => {
        await eraseEndedGraces(tx, now, null);
        // Graces and brownouts that ended by themselves get their records, in every tenant.
        await settleLapses({ ...this.base, now: () => now, q: tx, keys: this.keys, writable: true }, null);
        await purgeTokens(tx, nowMs);
        await purgeFailures(tx, Math.floor(nowMs / 60_000) - 60);
      },
      { now },
    );
  }

  /** Whether this server runs the store's periodic jobs, and how its change feed stands. */
  status(): StoreStatus {
    return this.base.store.status();
  }

  /** Resolves when the store answers and its schema is current (GET /readyz). */
  ready(): Promise<void> {
    return this.base.store.ready();
  }

  /** Outbox rows of every tenant waiting to be sent, by kind (GET /metrics). */
  outboxDepth(): Promise<Array<{ kind: string; n: number }>> {
    return this.base.store.read((q) => depthByKind(q, this.base.now().toISOString()));
  }

  /** A warning when others on this machine can open the store, else null. */
  exposure(): { message: string; hint: string } | null {
    return this.base.store.exposure();
  }

  close(): Promise<void> {
    return this.base.store.close();
  }
}
