/**
 * What ends by itself, recorded by the next write: a rotation's grace (erased by the store the
 * moment a write begins, and noted in grace_ends: store/integrity.ts) and a brownout (derived
 * from its end on every read; its row is set active again here). Each end gets its audit
 * record (actor `akm`) and its webhook event; a grace's end is told to the key's owner and to
 * whoever rotated it. Runs at the start of every write of the tenant (context.ts, writing) and
 * in `akm serve`'s sweep for every tenant, once a minute.
 */
import { appendAudit } from '../../store/audit.js';
import { takeGraceEnds, type GraceEndRow } from '../../store/graces.js';
import { keyLabels, lapsedBrownouts, updateStatus } from '../../store/keys.js';
import { insertNotification } from '../../store/notifications.js';
import { graceEndNotices } from '../../notify/graceNotices.js';
import type { WriteScope } from './context.js';
import { queueKeyEvent } from './events.js';

export const SYSTEM_ACTOR = 'akm';

async function announceGraceEnd(s: WriteScope, end: GraceEndRow, at: string): Promise<void> {
  const key = (await keyLabels(s.q, end.key_id)) ?? {
    id: end.key_id,
    tenant_id: end.tenant_id,
    name: '(deleted)',
    owner_email: null,
    rotated_by: null,
  };
  const details = { name: key.name, reason: end.reason, endedAt: end.ended_at };
  await appendAudit(s.q, s.keys.audit, {
    tenantId: end.tenant_id,
    at,
    actor: SYSTEM_ACTOR,
    action: 'key.grace_ended',
    target: end.key_id,
    details,
    source: SYSTEM_ACTOR,
  });
  for (const { recipient, message } of graceEndNotices({ key, reason: end.reason }))
    await insertNotification(s.q, recipient, {
      tenantId: end.tenant_id,
      at,
      action: 'key.grace_ended',
      keyId: key.id,
      keyName: key.name,
      actor: SYSTEM_ACTOR,
      message,
    });
  await queueKeyEvent(s.q, 'key.grace_ended', { tenantId: end.tenant_id, at, actor: SYSTEM_ACTOR, key, details });
}

/** `tenantId` null: every tenant (the server's sweep). */
export async function settleLapses(s: WriteScope, tenantId: string | null): Promise<void> {
  const at = s.now().toISOString();
  for (const end of await takeGraceEnds(s.q, tenantId)) await announceGraceEnd(s, end, at);
  for (const key of await lapsedBrownouts(s.q, tenantId, at)) {
    // A row altered at rest is left alone: it verifies as nothing anyway, and resealing it
    // would hide the alteration (audit verify lists it).
    if (key.intact === 0) continue;
    await updateStatus(s.q, key.id, { status: 'active', byAdmin: false, inactiveUntil: null }, at, SYSTEM_ACTOR);
    const details = {
      name: key.name,
      reason: 'brownout_ended',
      from: 'inactive',
      to: 'active',
      endedAt: key.inactive_until,
    };
    await appendAudit(s.q, s.keys.audit, {
      tenantId: key.tenant_id,
      at,
      actor: SYSTEM_ACTOR,
      action: 'key.activate',
      target: key.id,
      details,
      source: SYSTEM_ACTOR,
    });
    await queueKeyEvent(s.q, 'key.activated', { tenantId: key.tenant_id, at, actor: SYSTEM_ACTOR, key, details });
  }
}
