/**
 * Webhook events, queued in the transaction of the change they report: one delivery row per
 * endpoint that wants the event, all with the same event id (receivers dedupe on it). The
 * payload carries names, ids, dates and sources: never a secret.
 */
import { generateEventId, wantsEvent, webhookPayload, type WebhookEvent } from '../../core/webhooks.js';
import { enqueueDelivery, subscribers } from '../../store/webhooks.js';
import type { Queryable } from '../../store/types.js';

/** The audit action of a change to a key, and the event it is to webhooks. */
const EVENT_OF_ACTION: Record<string, WebhookEvent> = {
  'key.create': 'key.created',
  'key.rotate': 'key.rotated',
  'key.grace_ended': 'key.grace_ended',
  'key.activate': 'key.activated',
  'key.deactivate': 'key.deactivated',
  'key.delete': 'key.deleted',
  'key.canary_tripped': 'key.canary_tripped',
};

/** What each event carries beside the key's id, name, tenant, owner and the actor (README: Webhooks). */
const FIELDS: Record<WebhookEvent, readonly string[]> = {
  'key.created': ['type', 'expiresAt'],
  'key.rotated': ['grace', 'previousSecretValidUntil'],
  'key.grace_ended': ['reason', 'endedAt'],
  'key.activated': ['reason'],
  'key.deactivated': ['inactiveUntil'],
  'key.deleted': [],
  'key.expiring': ['expiresAt'],
  'key.canary_tripped': ['source', 'path', 'secretMatched', 'attempts'],
  'policy.violation': ['reason', 'expiresAt'],
};

export interface KeyEvent {
  tenantId: string;
  at: string;
  actor: string;
  key: { id: string; name: string; owner_email: string | null };
  details: Record<string, unknown>;
}

export function eventOfAction(action: string): WebhookEvent | undefined {
  return EVENT_OF_ACTION[action];
}

/** Queue `type` for every endpoint of the tenant that wants it; nothing when none does. */
export async function queueKeyEvent(q: Queryable, type: WebhookEvent, event: KeyEvent): Promise<void> {
  const hooks = (await subscribers(q, event.tenantId)).filter((h) =>
    wantsEvent(JSON.parse(h.events) as string[], type),
  );
  if (hooks.length === 0) return;
  const data: Record<string, unknown> = {
    accessKeyId: event.key.id,
    name: event.key.name,
    tenantId: event.tenantId,
    owner: event.key.owner_email,
    actor: event.actor,
  };
  for (const field of FIELDS[type]) if (field in event.details) data[field] = event.details[field];
  const eventId = generateEventId();
  const payload = webhookPayload(type, event.at, data);
  for (const hook of hooks)
    await enqueueDelivery(q, {
      tenantId: event.tenantId,
      webhookId: hook.id,
      eventId,
      eventType: type,
      payload,
      at: event.at,
    });
}
