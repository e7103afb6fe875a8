/**
 * A canary key's alarm. Attempts arrive from the verify paths (noted in memory by the server,
 * or by `akm verify` on a local store) and are recorded here, per key in one write: counted
 * always, their sources tallied like uses, and, at most once per key every ten minutes
 * (core/canary.ts), alerted: an audit record `key.canary_tripped`, a bell and an e-mail to
 * every administrator, and the webhook event. The next alert names the attempts in between.
 */
import { canaryAlertDue } from '../../core/canary.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import { SourceBook } from '../../core/usage.js';
import { canaryBell, type CanaryAlarmPayload } from '../../notify/canaryMessage.js';
import { appendAudit } from '../../store/audit.js';
import { getCanaryAlarm, noteCanaryAttempts } from '../../store/canaryAlarms.js';
import { keyLabels } from '../../store/keys.js';
import { insertNotification } from '../../store/notifications.js';
import { enqueueMail } from '../../store/outbox.js';
import { groupMemberEmails } from '../../store/people.js';
import { addTallies } from '../../store/usage.js';
import type { Queryable } from '../../store/types.js';
import type { CanaryTrip, LocalContext } from './context.js';
import { queueKeyEvent } from './events.js';

export const CANARY_KIND = 'key.canary_tripped';

/** Record one key's attempts (all of one key) in the caller's write transaction; true when it alerted. */
async function recordKey(q: Queryable, auditKey: Buffer, trips: CanaryTrip[], auditSource: string): Promise<boolean> {
  const last = trips[trips.length - 1]!;
  const key = await keyLabels(q, last.accessKeyId);
  if (!key) return false; // deleted since
  const alarm = await getCanaryAlarm(q, key.id, true);
  const alert = canaryAlertDue(alarm?.last_alert_at ?? null, new Date(last.at));
  await noteCanaryAttempts(q, {
    keyId: key.id,
    tenantId: key.tenant_id,
    attempts: trips.length,
    at: last.at,
    alerted: alert,
  });
  const book = new SourceBook();
  for (const trip of trips)
    book.note({ accessKeyId: key.id, generation: 0, kind: 'canary', at: trip.at, source: trip.source });
  for (const slot of book.take()) await addTallies(q, slot);
  if (!alert) return false;
  const payload: CanaryAlarmPayload = {
    accessKeyId: key.id,
    keyName: key.name,
    tenantId: key.tenant_id,
    at: last.at,
    path: last.path,
    source: last.source,
    secretMatched: trips.some((t) => t.secretMatched),
    attempts: trips.length + (alarm?.unalerted ?? 0),
  };
  const details = {
    name: key.name,
    source: payload.source,
    path: payload.path,
    secretMatched: payload.secretMatched,
    attempts: payload.attempts,
  };
  const actor = `key:${key.id}`;
  await appendAudit(q, auditKey, {
    tenantId: key.tenant_id,
    at: last.at,
    actor,
    action: CANARY_KIND,
    target: key.id,
    details,
    source: auditSource,
  });
  const message = canaryBell(payload);
  for (const admin of await groupMemberEmails(q, key.tenant_id, BUILTIN_GROUP)) {
    const notice = { tenantId: key.tenant_id, at: last.at, action: CANARY_KIND, keyId: key.id, keyName: key.name };
    await insertNotification(q, admin, { ...notice, actor, message });
    // One mail per alert and administrator: the alert's time makes it unique in the outbox.
    await enqueueMail(q, {
      tenantId: key.tenant_id,
      kind: CANARY_KIND,
      keyId: key.id,
      expiresAt: last.at,
      recipient: admin,
      payload: JSON.stringify(payload),
      at: last.at,
    });
  }
  await queueKeyEvent(q, 'key.canary_tripped', { tenantId: key.tenant_id, at: last.at, actor, key, details });
  return true;
}

/**
 * Record attempts on canary keys, one write per key (in the key's tenant); returns the tenants
 * that alerted, whose mail and webhooks are then worth sending at once.
 */
export async function recordCanaryTrips(ctx: LocalContext, trips: CanaryTrip[]): Promise<Set<string>> {
  const keys = await ctx.loadKeys();
  const byKey = new Map<string, CanaryTrip[]>();
  for (const trip of trips) byKey.set(trip.accessKeyId, [...(byKey.get(trip.accessKeyId) ?? []), trip]);
  const alerted = new Set<string>();
  for (const [, mine] of byKey) {
    const first = mine[0]!;
    const source = first.path === 'local' ? ctx.source : `http:${first.source.via ?? first.source.address ?? '?'}`;
    const did = await ctx.store.write(first.tenantId, (q) => recordKey(q, keys.audit, mine, source), {
      now: ctx.now(),
    });
    if (did) alerted.add(first.tenantId);
  }
  return alerted;
}
