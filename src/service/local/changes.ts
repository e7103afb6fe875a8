/**
 * Every change is recorded inside the transaction that makes it: the audit record (and, for
 * changes to a key, the notifications of the people it concerns and the webhook events).
 * Either all of it commits or none of it does.
 */
import { appendAudit } from '../../store/audit.js';
import type { KeyRow } from '../../store/keys.js';
import type { WriteScope } from './context.js';
import { eventOfAction, queueKeyEvent } from './events.js';
import { notifyKeyChange } from './notifications.js';

export interface Change {
  action: string;
  target: string | null;
  /** never a secret: only names, ids, dates and counts */
  details: Record<string, unknown>;
  /** the key as it was before the change, when the change concerns a key */
  key?: Pick<KeyRow, 'id' | 'name' | 'owner_id' | 'owner_email' | 'created_by' | 'modified_by' | 'tenant_id'>;
}

export async function recordChange(s: WriteScope, change: Change): Promise<void> {
  const at = s.now().toISOString();
  await appendAudit(s.q, s.keys.audit, {
    tenantId: s.tenant.id,
    at,
    actor: s.actor.label,
    action: change.action,
    target: change.target,
    details: change.details,
    source: s.source,
  });
  await notifyKeyChange(s, change, at);
  const event = eventOfAction(change.action);
  if (event && change.key)
    await queueKeyEvent(s.q, event, {
      tenantId: s.tenant.id,
      at,
      actor: s.actor.label,
      key: change.key,
      details: change.details,
    });
}
