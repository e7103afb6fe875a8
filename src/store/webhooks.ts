/**
 * Webhook endpoints and their delivery outbox. Deliveries are queued in the transaction of the
 * change they report and sent through claims, like the mail outbox (claims.ts): only the holder
 * of a claim settles it, so two senders (on any replicas) never send the same row at once, and a
 * crashed sender's rows come back when its lease runs out.
 */
import { claimRows, settleClaim } from './claims.js';
import type { Queryable } from './types.js';

export interface WebhookRow {
  id: string;
  tenant_id: string;
  url: string;
  /** a JSON array of event types, or ["*"] */
  events: string;
  secret_sealed: Buffer;
  created_at: string;
  created_by: string;
  last_attempt_at: string | null;
  last_event_type: string | null;
  last_ok: number | null;
  last_status: number | null;
  last_error: string | null;
}

export type ListedWebhookRow = Omit<WebhookRow, 'secret_sealed'> & { pending: number };

export async function insertWebhook(
  q: Queryable,
  row: Pick<WebhookRow, 'id' | 'tenant_id' | 'url' | 'events' | 'secret_sealed' | 'created_at' | 'created_by'>,
): Promise<void> {
  await q.run(
    `INSERT INTO webhooks (id, tenant_id, url, events, secret_sealed, created_at, created_by)
     VALUES (@id, @tenant_id, @url, @events, @secret_sealed, @created_at, @created_by)`,
    { ...row },
  );
}

const WAITING = `state IN ('pending', 'sending', 'failed')`;
const LISTED = `SELECT w.id, w.tenant_id, w.url, w.events, w.created_at, w.created_by, w.last_attempt_at,
       w.last_event_type, w.last_ok, w.last_status, w.last_error,
       (SELECT count(*) FROM webhook_deliveries d WHERE d.webhook_id = w.id AND d.${WAITING}) AS pending
  FROM webhooks w`;

export function listWebhooks(q: Queryable, tenantId: string): Promise<ListedWebhookRow[]> {
  return q.all<ListedWebhookRow>(`${LISTED} WHERE w.tenant_id = @tenantId ORDER BY w.created_at, w.id`, { tenantId });
}

export function getListedWebhook(q: Queryable, tenantId: string, id: string): Promise<ListedWebhookRow | undefined> {
  return q.get<ListedWebhookRow>(`${LISTED} WHERE w.tenant_id = @tenantId AND w.id = @id`, { tenantId, id });
}

export function getWebhook(q: Queryable, id: string): Promise<WebhookRow | undefined> {
  return q.get<WebhookRow>('SELECT * FROM webhooks WHERE id = @id', { id });
}

/** Its queued deliveries go with it. */
/** Every webhook's sealed signing secret, all tenants (a master key rotation re-seals them). */
export function sealedWebhookSecrets(q: Queryable): Promise<Pick<WebhookRow, 'id' | 'tenant_id' | 'secret_sealed'>[]> {
  return q.all('SELECT id, tenant_id, secret_sealed FROM webhooks ORDER BY id');
}

export async function resealWebhookSecret(q: Queryable, id: string, sealed: Buffer): Promise<void> {
  await q.run('UPDATE webhooks SET secret_sealed = @sealed WHERE id = @id', { id, sealed });
}

export async function deleteWebhook(q: Queryable, id: string): Promise<void> {
  await q.run('DELETE FROM webhook_deliveries WHERE webhook_id = @id', { id });
  await q.run('DELETE FROM webhooks WHERE id = @id', { id });
}

/** The endpoints of a tenant and what they want: to queue an event for each that wants it. */
export function subscribers(q: Queryable, tenantId: string): Promise<Array<{ id: string; events: string }>> {
  return q.all('SELECT id, events FROM webhooks WHERE tenant_id = @tenantId ORDER BY id', { tenantId });
}

export interface Attempt {
  at: string;
  eventType: string;
  ok: boolean;
  status: number | null;
  error: string | null;
}

export async function recordAttempt(q: Queryable, id: string, a: Attempt): Promise<void> {
  await q.run(
    `UPDATE webhooks SET last_attempt_at = @at, last_event_type = @eventType, last_ok = @ok, last_status = @status,
                         last_error = @error
      WHERE id = @id`,
    { id, at: a.at, eventType: a.eventType, ok: a.ok ? 1 : 0, status: a.status, error: a.error },
  );
}

// ---- deliveries

export interface DeliveryRow {
  id: number;
  tenant_id: string;
  webhook_id: string;
  event_id: string;
  event_type: string;
  payload: string;
  state: 'pending' | 'sending' | 'sent' | 'failed' | 'given_up';
  attempts: number;
  created_at: string;
  next_attempt_at: string;
  claim_token: string | null;
  lease_until: string | null;
}

export async function enqueueDelivery(
  q: Queryable,
  d: { tenantId: string; webhookId: string; eventId: string; eventType: string; payload: string; at: string },
): Promise<void> {
  await q.run(
    `INSERT INTO webhook_deliveries (tenant_id, webhook_id, event_id, event_type, payload, state, created_at,
                                     next_attempt_at)
     VALUES (@tenantId, @webhookId, @eventId, @eventType, @payload, 'pending', @at, @at)
     ON CONFLICT DO NOTHING`,
    { ...d },
  );
}

/**
 * Hand up to `limit` due deliveries (of a tenant; null: any) to the sender holding `token` until
 * `leaseUntil` (claims.ts: on PostgreSQL, replicas skip the rows another is claiming). A failed
 * delivery is due again at its `next_attempt_at` (the backoff).
 */
export function claimDeliveries(
  q: Queryable,
  claim: { tenantId: string | null; token: string; now: string; leaseUntil: string; limit: number },
): Promise<DeliveryRow[]> {
  const { tenantId, ...rest } = claim;
  const where = `(CAST(@tenantId AS TEXT) IS NULL OR tenant_id = @tenantId)
    AND (state = 'sending' OR next_attempt_at <= @now)`;
  return claimRows<DeliveryRow>(q, { table: 'webhook_deliveries', where, params: { tenantId } }, rest);
}

export interface Settlement {
  state: 'sent' | 'failed' | 'given_up';
  at: string;
  status: number | null;
  error: string | null;
  /** failed: when to try again */
  nextAttemptAt: string | null;
}

/** Only the holder of the claim settles it: a sender whose lease ran out changes nothing. */
export function settleDelivery(q: Queryable, id: number, token: string, s: Settlement): Promise<boolean> {
  return settleClaim(
    q,
    'webhook_deliveries',
    { id, token },
    {
      state: s.state,
      last_status: s.status,
      last_error: s.error,
      ...(s.state === 'sent' ? { sent_at: s.at } : {}),
      ...(s.state === 'failed' ? { next_attempt_at: s.nextAttemptAt } : {}),
    },
  );
}

/** Deliveries still to send (pending, being sent, or waiting for a retry), of a tenant or (null) every tenant. */
export async function countWaiting(q: Queryable, tenantId: string | null): Promise<number> {
  const row = await q.get<{ n: number }>(
    `SELECT count(*) AS n FROM webhook_deliveries
      WHERE (CAST(@tenantId AS TEXT) IS NULL OR tenant_id = @tenantId) AND ${WAITING}`,
    { tenantId },
  );
  return row!.n;
}

/** The earliest moment a delivery is due (null: nothing waits): how long a sender may sleep. */
export async function nextDue(q: Queryable): Promise<string | null> {
  const row = await q.get<{ at: string | null }>(
    `SELECT min(CASE WHEN state = 'sending' THEN lease_until ELSE next_attempt_at END) AS at
       FROM webhook_deliveries WHERE ${WAITING}`,
  );
  return row?.at ?? null;
}
