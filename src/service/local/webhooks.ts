/**
 * Webhook endpoints (administrators only): added with a signing secret shown once and kept
 * sealed like a key's secret (AES-256-GCM, bound to the tenant and the webhook's id), listed
 * with how their deliveries go, removed, and tested with one signed event sent at once.
 */
import { NotFoundError } from '../../core/errors.js';
import {
  checkEvents,
  checkWebhookUrl,
  generateEventId,
  generateWebhookId,
  generateWebhookSecret,
  isWebhookId,
  TEST_EVENT,
  webhookPayload,
} from '../../core/webhooks.js';
import { printable } from '../../core/validate.js';
import { openSecret, sealSecret } from '../../crypto/seal.js';
import { sendWebhook } from '../../notify/webhookSender.js';
import * as hooks from '../../store/webhooks.js';
import type { AddWebhookInput, NewWebhook, Webhook, WebhookTestResult } from '../types.js';
import { authorize } from './authorize.js';
import { recordChange } from './changes.js';
import { checking, writing, type CheckedScope, type LocalContext } from './context.js';

export function webhookView(row: hooks.ListedWebhookRow): Webhook {
  return {
    id: row.id,
    url: row.url,
    events: JSON.parse(row.events) as string[],
    createdAt: row.created_at,
    createdBy: row.created_by,
    pending: row.pending,
    lastAttempt:
      row.last_attempt_at === null
        ? null
        : {
            at: row.last_attempt_at,
            eventType: row.last_event_type ?? '',
            ok: row.last_ok === 1,
            status: row.last_status,
            error: row.last_error,
          },
  };
}

/**
 * What the audit trail keeps of a URL: scheme, host and port. Its path and query may hold the
 * receiver's own token (many chat and incident tools put one there).
 */
function endpointOf(url: string): string {
  return new URL(url).origin;
}

async function mustWebhook(s: CheckedScope, id: string): Promise<hooks.ListedWebhookRow> {
  const row = isWebhookId(id) ? await hooks.getListedWebhook(s.q, s.tenant.id, id) : undefined;
  if (!row)
    throw new NotFoundError(`no webhook ${printable(id, 40)} in tenant ${s.tenant.id}`, {
      hint: 'list them with: akm webhooks list',
      code: 'webhook_not_found',
    });
  return row;
}

export async function addWebhook(ctx: LocalContext, input: AddWebhookInput): Promise<NewWebhook> {
  authorize(ctx, { operation: 'webhook.add' });
  const url = checkWebhookUrl(input.url);
  const events = checkEvents(input.events);
  const id = generateWebhookId();
  const secret = generateWebhookSecret();
  const keys = await ctx.loadKeys();
  const sealed = sealSecret(keys, ctx.tenant.id, id, secret);
  return writing(ctx, async (s) => {
    const at = s.now().toISOString();
    await hooks.insertWebhook(s.q, {
      id,
      tenant_id: s.tenant.id,
      url,
      events: JSON.stringify(events),
      secret_sealed: sealed,
      created_at: at,
      created_by: s.actor.label,
    });
    await recordChange(s, { action: 'webhook.add', target: id, details: { endpoint: endpointOf(url), events } });
    return { ...webhookView((await hooks.getListedWebhook(s.q, s.tenant.id, id))!), secret };
  });
}

export function listWebhooks(ctx: LocalContext): Promise<Webhook[]> {
  authorize(ctx, { operation: 'webhook.list' });
  return checking(ctx, async (s) => (await hooks.listWebhooks(s.q, s.tenant.id)).map(webhookView));
}

export function removeWebhook(ctx: LocalContext, id: string): Promise<Webhook> {
  authorize(ctx, { operation: 'webhook.remove' });
  return writing(ctx, async (s) => {
    const row = await mustWebhook(s, id);
    await hooks.deleteWebhook(s.q, row.id);
    await recordChange(s, { action: 'webhook.remove', target: row.id, details: { endpoint: endpointOf(row.url) } });
    return webhookView(row);
  });
}

/** One signed `webhook.test` event, sent now (not queued), its outcome kept as the webhook's last attempt. */
export async function testWebhook(ctx: LocalContext, id: string): Promise<WebhookTestResult> {
  authorize(ctx, { operation: 'webhook.test' });
  const row = await checking(ctx, async (s) => (await hooks.getWebhook(s.q, (await mustWebhook(s, id)).id))!);
  const keys = await ctx.loadKeys();
  const at = ctx.now();
  const eventId = generateEventId();
  const payload = webhookPayload(TEST_EVENT, at.toISOString(), { tenantId: ctx.tenant.id, webhookId: row.id });
  const secret = openSecret(keys, row.tenant_id, row.id, row.secret_sealed);
  const outcome = await sendWebhook({ url: row.url, secret, eventId, payload }, at);
  await ctx.store.write(
    ctx.tenant.id,
    (q) => hooks.recordAttempt(q, row.id, { at: at.toISOString(), eventType: TEST_EVENT, ...outcome }),
    { now: ctx.now() },
  );
  return { id: row.id, eventId, delivered: outcome.ok, status: outcome.status, error: outcome.error };
}
