/**
 * `notify-expiring` on the local store: plan the mail for keys expiring soon (once per key and
 * expiry date, in one immediate transaction), then deliver the outbox — this run's mail and
 * any earlier failures — claiming rows in small batches under a lease, so two runs at once
 * share the work and never send the same message twice.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../../core/errors.js';
import { MAX_DAYS } from '../../core/expiry.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import { renderExpiryMail, type ExpiryMailPayload } from '../../notify/expiryMessage.js';
import { expiryRecipients, windowEnd } from '../../notify/expiryPlan.js';
import { requireMailSettings, smtpSender, type MailSender, type MailSettings } from '../../notify/smtp.js';
import * as outbox from '../../store/outbox.js';
import { groupMemberEmails } from '../../store/people.js';
import type { ExpiryMessage, NotifyExpiringOptions, NotifyExpiringResult, ProgressListener } from '../types.js';
import { authorize } from './authorize.js';
import { inTransaction, type LocalContext } from './context.js';

export const EXPIRY_KIND = 'key.expiring';
const BATCH = 10;
/** Longer than a batch can take with the sender's timeouts; a crashed run's rows are retried after it. */
const LEASE_MS = 10 * 60_000;

interface PlannedMail {
  payload: ExpiryMailPayload;
  recipient: string;
}

/** Keys expiring in the window without a notice for their date, and who hears about each. */
function planMail(ctx: LocalContext, now: Date, withinDays: number): { keys: number; mail: PlannedMail[] } {
  const rows = outbox.expiringWithoutNotice(
    ctx.db,
    ctx.tenant.id,
    now.toISOString(),
    windowEnd(now, withinDays).toISOString(),
  );
  const administrators = groupMemberEmails(ctx.db, ctx.tenant.id, BUILTIN_GROUP);
  const mail = rows.flatMap((row) =>
    expiryRecipients(
      {
        owner: row.owner_email,
        createdBy: row.created_by,
        modifiedBy: row.modified_by,
        creatorIsUser: row.creator_is_user === 1,
        modifierIsUser: row.modifier_is_user === 1,
      },
      administrators,
    ).map((r) => ({
      recipient: r.email,
      payload: {
        accessKeyId: row.id,
        keyName: row.name,
        tenantId: ctx.tenant.id,
        tenantName: ctx.tenant.name,
        owner: row.owner_email,
        expiresAt: row.expires_at,
        reasons: r.reasons,
      },
    })),
  );
  return { keys: rows.length, mail };
}

/** Returns the keys planned and the outbox ids this run queued. */
function queuePlanned(ctx: LocalContext, now: Date, withinDays: number): { keys: number; ids: Set<number> } {
  return inTransaction(ctx, () => {
    const at = now.toISOString();
    // Planned under the write lock: a run that got here first has already written the notices.
    const plan = planMail(ctx, now, withinDays);
    const ids = new Set<number>();
    for (const m of plan.mail) {
      const { accessKeyId: keyId, expiresAt } = m.payload;
      outbox.insertExpiryNotice(ctx.db, { keyId, expiresAt, tenantId: ctx.tenant.id, at });
      const id = outbox.enqueueMail(ctx.db, {
        tenantId: ctx.tenant.id,
        kind: EXPIRY_KIND,
        keyId,
        expiresAt,
        recipient: m.recipient,
        payload: JSON.stringify(m.payload),
        at,
      });
      if (id !== null) ids.add(id);
    }
    return { keys: plan.keys, ids };
  });
}

type DeliveryFacts = Pick<ExpiryMessage, 'id' | 'state' | 'attempts' | 'error' | 'sentAt' | 'retry'>;

/** One message as reported: what it is about (from its payload) and how its delivery stands. */
function expiryMessage(
  payload: ExpiryMailPayload,
  recipient: string,
  now: Date,
  delivery: DeliveryFacts,
): ExpiryMessage {
  return {
    accessKeyId: payload.accessKeyId,
    keyName: payload.keyName,
    expiresAt: payload.expiresAt,
    recipient,
    reasons: payload.reasons,
    subject: renderExpiryMail(payload, now).subject,
    ...delivery,
  };
}

function messageView(
  row: outbox.OutboxRow,
  now: Date,
  retry: boolean,
  state: ExpiryMessage['state'] = row.state === 'sending' ? 'pending' : row.state,
): ExpiryMessage {
  const payload = JSON.parse(row.payload) as ExpiryMailPayload;
  return expiryMessage(payload, row.recipient, now, {
    id: row.id,
    state,
    attempts: row.attempts,
    error: row.last_error,
    sentAt: row.sent_at,
    retry,
  });
}

function checkOptions(ctx: LocalContext, options: NotifyExpiringOptions): number {
  // The job reads every key of the tenant, administrators' keys too: for administrators only.
  authorize(ctx, { operation: 'expiry.notify' });
  const days = options.withinDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
    throw new UsageError(`--within must be a whole number of days from 1 to ${MAX_DAYS}`);
  return days;
}

function dryRun(ctx: LocalContext, now: Date, withinDays: number): NotifyExpiringResult {
  const plan = planMail(ctx, now, withinDays);
  const fresh = plan.mail.map((m) =>
    expiryMessage(m.payload, m.recipient, now, {
      id: null,
      state: 'pending',
      attempts: 0,
      error: null,
      sentAt: null,
      retry: false,
    }),
  );
  const due = outbox
    .listDue(ctx.db, ctx.tenant.id, now.toISOString())
    .map((row) => messageView(row, now, true, row.obsolete ? 'cancelled' : 'pending'));
  const messages = [...due, ...fresh];
  return {
    dryRun: true,
    withinDays,
    checkedAt: now.toISOString(),
    keys: plan.keys,
    messages,
    sent: 0,
    failed: 0,
    cancelled: due.filter((m) => m.state === 'cancelled').length,
  };
}

/** Send one claimed message and settle it; a failure is kept, with its error, for the next run. */
async function deliver(
  ctx: LocalContext,
  sender: MailSender,
  row: outbox.OutboxRow,
  token: string,
  retry: boolean,
): Promise<ExpiryMessage> {
  const now = ctx.now();
  const payload = JSON.parse(row.payload) as ExpiryMailPayload;
  const { subject, text } = renderExpiryMail(payload, now);
  try {
    const { messageId } = await sender.send({ to: row.recipient, subject, text });
    inTransaction(ctx, () => outbox.markSent(ctx.db, row.id, token, ctx.now().toISOString(), messageId));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    inTransaction(ctx, () => outbox.markFailed(ctx.db, row.id, token, message));
  }
  return messageView(outbox.getOutboxRow(ctx.db, row.id)!, now, retry);
}

export async function notifyExpiring(
  ctx: LocalContext,
  options: NotifyExpiringOptions,
  settings: MailSettings | null,
  onProgress?: ProgressListener,
): Promise<NotifyExpiringResult> {
  const withinDays = checkOptions(ctx, options);
  const startedAt = ctx.now();
  if (options.dryRun) return dryRun(ctx, startedAt, withinDays);
  const mail = requireMailSettings(settings);
  const planned = queuePlanned(ctx, startedAt, withinDays);
  const total = outbox.countDue(ctx.db, ctx.tenant.id, startedAt.toISOString());
  // One token for the whole run: rows it has tried carry it, so a failure is not retried until the next run.
  const token = randomUUID();
  const messages: ExpiryMessage[] = [];
  let sender: MailSender | undefined;
  try {
    for (;;) {
      const now = ctx.now().toISOString();
      const leaseUntil = new Date(Date.parse(now) + LEASE_MS).toISOString();
      const { cancelled, claimed } = inTransaction(ctx, () => ({
        cancelled: outbox.cancelObsolete(ctx.db, ctx.tenant.id, now),
        claimed: outbox.claimDue(ctx.db, { tenantId: ctx.tenant.id, token, now, leaseUntil, limit: BATCH }),
      }));
      messages.push(...cancelled.map((row) => messageView(row, startedAt, !planned.ids.has(row.id))));
      if (claimed.length === 0) break;
      sender ??= await smtpSender(mail);
      for (const row of claimed) {
        messages.push(await deliver(ctx, sender, row, token, !planned.ids.has(row.id)));
        onProgress?.(messages.length, Math.max(total, messages.length));
      }
    }
  } finally {
    sender?.close();
  }
  const count = (state: ExpiryMessage['state']) => messages.filter((m) => m.state === state).length;
  return {
    dryRun: false,
    withinDays,
    checkedAt: startedAt.toISOString(),
    keys: planned.keys,
    messages,
    sent: count('sent'),
    failed: count('failed'),
    cancelled: count('cancelled'),
  };
}
