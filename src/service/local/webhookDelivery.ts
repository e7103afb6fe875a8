/**
 * Sending queued webhook events: claim due deliveries under a lease, send each (signed, with a
 * timeout), and settle it as sent, as failed with its next attempt (exponential backoff with
 * jitter, core/webhooks.ts), or as given up 24 hours after its event, which the tenant's
 * administrators hear about on the bell. At least once: a sender that dies mid-batch leaves its
 * rows to come back when the lease runs out, and a receiver dedupes on the event id.
 * `akm serve` runs this continuously; `akm deliver` once, for a local store.
 */
import { randomUUID } from 'node:crypto';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import { givenUp, retryDelayMs } from '../../core/webhooks.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import { openSecret } from '../../crypto/seal.js';
import { DELIVERY_TIMEOUT_MS, sendWebhook, type SendOutcome } from '../../notify/webhookSender.js';
import { insertNotification } from '../../store/notifications.js';
import { groupMemberEmails } from '../../store/people.js';
import type { Store } from '../../store/types.js';
import * as hooks from '../../store/webhooks.js';

const BATCH = 10;
/** Longer than a batch can take (its sends run side by side, each within its timeout). */
const LEASE_MS = 5 * 60_000;

export interface DeliveryDeps {
  store: Store;
  keys: DerivedKeys;
  now: () => Date;
  /** in [0, 1): the jitter of the retry delays */
  random?: () => number;
  timeoutMs?: number;
}

export interface DeliveryCounts {
  sent: number;
  failed: number;
  gaveUp: number;
}

interface GivenUp {
  tenantId: string;
  url: string;
  error: string | null;
}

async function send(
  deps: DeliveryDeps,
  row: hooks.DeliveryRow,
  hook: hooks.WebhookRow,
  at: Date,
): Promise<SendOutcome> {
  let secret: string;
  try {
    secret = openSecret(deps.keys, hook.tenant_id, hook.id, hook.secret_sealed);
  } catch {
    return { ok: false, status: null, error: 'the signing secret failed its integrity check: remove and re-add it' };
  }
  const event = { url: hook.url, secret, eventId: row.event_id, payload: row.payload };
  return sendWebhook(event, at, { timeoutMs: deps.timeoutMs ?? DELIVERY_TIMEOUT_MS });
}

async function deliverOne(
  deps: DeliveryDeps,
  row: hooks.DeliveryRow,
  token: string,
  counts: DeliveryCounts,
  gaveUp: GivenUp[],
): Promise<void> {
  const hook = await deps.store.read((q) => hooks.getWebhook(q, row.webhook_id));
  if (!hook) return; // removed meanwhile, its deliveries with it
  const at = deps.now();
  const outcome = await send(deps, row, hook, at);
  const settledAt = deps.now();
  let settlement: hooks.Settlement;
  if (outcome.ok) settlement = { state: 'sent', at: settledAt.toISOString(), ...outcome, nextAttemptAt: null };
  else if (givenUp(row.created_at, settledAt))
    settlement = { state: 'given_up', at: settledAt.toISOString(), ...outcome, nextAttemptAt: null };
  else {
    const wait = retryDelayMs(row.attempts, (deps.random ?? Math.random)());
    const nextAttemptAt = new Date(settledAt.getTime() + wait).toISOString();
    settlement = { state: 'failed', at: settledAt.toISOString(), ...outcome, nextAttemptAt };
  }
  const settled = await deps.store.write(
    row.tenant_id,
    async (q) => {
      await hooks.recordAttempt(q, hook.id, { at: at.toISOString(), eventType: row.event_type, ...outcome });
      return hooks.settleDelivery(q, row.id, token, settlement);
    },
    { now: settledAt },
  );
  if (!settled) return; // our lease ran out and another sender has it
  if (settlement.state === 'sent') counts.sent += 1;
  else if (settlement.state === 'failed') counts.failed += 1;
  else {
    counts.gaveUp += 1;
    gaveUp.push({ tenantId: row.tenant_id, url: hook.url, error: outcome.error });
  }
}

/** One bell per tenant and endpoint for the deliveries given up in this run. */
async function tellAdministrators(deps: DeliveryDeps, gaveUp: GivenUp[]): Promise<void> {
  const groups = new Map<string, GivenUp[]>();
  for (const g of gaveUp) groups.set(`${g.tenantId}\0${g.url}`, [...(groups.get(`${g.tenantId}\0${g.url}`) ?? []), g]);
  for (const list of groups.values()) {
    const { tenantId, url, error } = list[list.length - 1]!;
    const origin = new URL(url).origin;
    const message =
      `akm gave up delivering ${list.length} webhook event${list.length === 1 ? '' : 's'} to ${origin} ` +
      `after 24 hours of failed attempts${error ? ` (last: ${error})` : ''}`;
    const at = deps.now().toISOString();
    await deps.store.write(
      tenantId,
      async (q) => {
        for (const admin of await groupMemberEmails(q, tenantId, BUILTIN_GROUP))
          await insertNotification(q, admin, {
            tenantId,
            at,
            action: 'webhook.given_up',
            keyId: null,
            keyName: null,
            actor: 'akm',
            message,
          });
      },
      { now: deps.now() },
    );
  }
}

/** Send what is due, of a tenant (null: every tenant), until nothing due is left. */
export async function deliverWebhooks(deps: DeliveryDeps, tenantId: string | null): Promise<DeliveryCounts> {
  const token = randomUUID();
  const counts: DeliveryCounts = { sent: 0, failed: 0, gaveUp: 0 };
  const gaveUp: GivenUp[] = [];
  for (;;) {
    const now = deps.now();
    const claim = {
      tenantId,
      token,
      now: now.toISOString(),
      leaseUntil: new Date(now.getTime() + LEASE_MS).toISOString(),
      limit: BATCH,
    };
    const claimed = await deps.store.write(tenantId, (q) => hooks.claimDeliveries(q, claim), { now });
    if (claimed.length === 0) break;
    // Endpoints side by side; each endpoint's events one after another, in the order they happened.
    const byHook = new Map<string, hooks.DeliveryRow[]>();
    for (const row of claimed.sort((a, b) => a.id - b.id))
      byHook.set(row.webhook_id, [...(byHook.get(row.webhook_id) ?? []), row]);
    await Promise.all(
      [...byHook.values()].map(async (rows) => {
        for (const row of rows) await deliverOne(deps, row, token, counts, gaveUp);
      }),
    );
  }
  if (gaveUp.length > 0) await tellAdministrators(deps, gaveUp);
  return counts;
}
