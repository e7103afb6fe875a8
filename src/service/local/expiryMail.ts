/**
 * `notify-expiring` on the local store: plan the mail for keys expiring soon (once per key and
 * expiry date, in one immediate transaction) and the lifetime policy's reminder when one is due
 * (once per policy version and reminder), then deliver the outbox — this run's mail, the policy
 * notices queued when a policy was set, and any earlier failures — claiming rows in small
 * batches under a lease, so two runs at once share the work and never send the same message twice.
 */
import { randomUUID } from 'node:crypto';
import { UsageError } from '../../core/errors.js';
import { MAX_DAYS } from '../../core/expiry.js';
import { BUILTIN_GROUP } from '../../core/permissions.js';
import { renderExpiryMail, type ExpiryMailPayload, type RenderedMail } from '../../notify/expiryMessage.js';
import { renderPolicyMail, type PolicyNoticePayload } from '../../notify/policyMessage.js';
import { expiryRecipients, windowEnd } from '../../notify/expiryPlan.js';
import { requireMailSettings, smtpSender, type MailSender, type MailSettings } from '../../notify/smtp.js';
import * as outbox from '../../store/outbox.js';
import type { Queryable } from '../../store/types.js';
import { groupMemberEmails } from '../../store/people.js';
import type { ExpiryMessage, NotifyExpiringOptions, NotifyExpiringResult, ProgressListener } from '../types.js';
import { authorize } from './authorize.js';
import { queueKeyEvent } from './events.js';
import { reading, writing, type LocalContext, type Scope } from './context.js';
import { POLICY_KIND, remindPolicy, type PlannedNotice } from './policyNotices.js';

export const EXPIRY_KIND = 'key.expiring';
/** What this job sends: expiry notices and lifetime policy notices (canary alerts go by alertMail.ts). */
const NOTICE_KINDS = [EXPIRY_KIND, POLICY_KIND];
const BATCH = 10;
/** Longer than a batch can take with the sender's timeouts; a crashed run's rows are retried after it. */
const LEASE_MS = 10 * 60_000;

interface PlannedMail {
  payload: ExpiryMailPayload;
  recipient: string;
}

/** Keys expiring in the window without a notice for their date, and who hears about each. */
async function planMail(s: Scope, now: Date, withinDays: number): Promise<{ keys: number; mail: PlannedMail[] }> {
  const rows = await outbox.expiringWithoutNotice(
    s.q,
    s.tenant.id,
    now.toISOString(),
    windowEnd(now, withinDays).toISOString(),
  );
  const administrators = await groupMemberEmails(s.q, s.tenant.id, BUILTIN_GROUP);
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
        tenantId: s.tenant.id,
        tenantName: s.tenant.name,
        owner: row.owner_email,
        expiresAt: row.expires_at,
        reasons: r.reasons,
      },
    })),
  );
  return { keys: rows.length, mail };
}

/** Returns the keys planned and the outbox ids this run queued. */
function queuePlanned(ctx: LocalContext, now: Date, withinDays: number): Promise<{ keys: number; ids: Set<number> }> {
  return writing(ctx, async (s) => {
    const at = now.toISOString();
    // Planned under the write lock: a run that got here first has already written the notices.
    const plan = await planMail(s, now, withinDays);
    const ids = new Set<number>();
    for (const m of plan.mail) {
      const { accessKeyId: keyId, expiresAt } = m.payload;
      // The first recipient's row plans the key's notice: that is when webhooks hear of it too.
      if (await outbox.insertExpiryNotice(s.q, { keyId, expiresAt, tenantId: s.tenant.id, at }))
        await queueKeyEvent(s.q, 'key.expiring', {
          tenantId: s.tenant.id,
          at,
          actor: s.actor.label,
          key: { id: keyId, name: m.payload.keyName, owner_email: m.payload.owner },
          details: { expiresAt },
        });
      const id = await outbox.enqueueMail(s.q, {
        tenantId: s.tenant.id,
        kind: EXPIRY_KIND,
        keyId,
        expiresAt,
        recipient: m.recipient,
        payload: JSON.stringify(m.payload),
        at,
      });
      if (id !== null) ids.add(id);
    }
    for (const id of (await remindPolicy(s, false)).ids) ids.add(id);
    return { keys: plan.keys, ids };
  });
}

/**
 * Outbox bookkeeping records no change (the audit has the key's own records), so it needs no
 * master key; and no tenant lock: claims keep senders apart by themselves (store/claims.ts), so
 * they do not queue behind the tenant's key changes.
 */
function bookkeeping<T>(ctx: LocalContext, work: (q: Queryable) => Promise<T>): Promise<T> {
  return ctx.store.write(null, work);
}

type DeliveryFacts = Pick<ExpiryMessage, 'id' | 'state' | 'attempts' | 'error' | 'sentAt' | 'retry'>;

/** The mail of an outbox row: an expiry notice, or a lifetime policy notice. */
function render(kind: string, payload: string, now: Date): RenderedMail {
  return kind === POLICY_KIND
    ? renderPolicyMail(JSON.parse(payload) as PolicyNoticePayload, now)
    : renderExpiryMail(JSON.parse(payload) as ExpiryMailPayload, now);
}

/** A lifetime policy notice as reported: about no one key, dated by the policy's enforcement. */
function policyMessage(p: PolicyNoticePayload, recipient: string, now: Date, delivery: DeliveryFacts): ExpiryMessage {
  return {
    accessKeyId: null,
    keyName: null,
    expiresAt: p.policy.enforceOn!,
    recipient,
    reasons: [p.reason],
    subject: renderPolicyMail(p, now).subject,
    ...delivery,
  };
}

const FRESH: DeliveryFacts = { id: null, state: 'pending', attempts: 0, error: null, sentAt: null, retry: false };

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
  const delivery = { id: row.id, state, attempts: row.attempts, error: row.last_error, sentAt: row.sent_at, retry };
  if (row.kind === POLICY_KIND)
    return policyMessage(JSON.parse(row.payload) as PolicyNoticePayload, row.recipient, now, delivery);
  return expiryMessage(JSON.parse(row.payload) as ExpiryMailPayload, row.recipient, now, delivery);
}

function checkOptions(ctx: LocalContext, options: NotifyExpiringOptions): number {
  // The job reads every key of the tenant, administrators' keys too: for administrators only.
  authorize(ctx, { operation: 'expiry.notify' });
  const days = options.withinDays;
  if (!Number.isInteger(days) || days < 1 || days > MAX_DAYS)
    throw new UsageError(`--within must be a whole number of days from 1 to ${MAX_DAYS}`);
  return days;
}

async function dryRun(ctx: LocalContext, now: Date, withinDays: number): Promise<NotifyExpiringResult> {
  const { plan, due, reminders } = await reading(ctx, async (s) => ({
    plan: await planMail(s, now, withinDays),
    due: await outbox.listDue(s.q, s.tenant.id, now.toISOString(), NOTICE_KINDS),
    reminders: (await remindPolicy(s, true)).planned,
  }));
  const fresh = [
    ...plan.mail.map((m) => expiryMessage(m.payload, m.recipient, now, FRESH)),
    ...reminders.map((n: PlannedNotice) => policyMessage(n.payload, n.recipient, now, FRESH)),
  ];
  const retried = due.map((row) => messageView(row, now, true, row.obsolete ? 'cancelled' : 'pending'));
  const messages = [...retried, ...fresh];
  return {
    dryRun: true,
    withinDays,
    checkedAt: now.toISOString(),
    keys: plan.keys,
    messages,
    sent: 0,
    failed: 0,
    cancelled: retried.filter((m) => m.state === 'cancelled').length,
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
  const { subject, text } = render(row.kind, row.payload, now);
  try {
    const { messageId } = await sender.send({ to: row.recipient, subject, text });
    await bookkeeping(ctx, (q) => outbox.markSent(q, row.id, token, ctx.now().toISOString(), messageId));
  } catch (error) {
    const message = error instanceof Error ? error.message : String(error);
    await bookkeeping(ctx, (q) => outbox.markFailed(q, row.id, token, message));
  }
  return messageView((await reading(ctx, (s) => outbox.getOutboxRow(s.q, row.id)))!, now, retry);
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
  const planned = await queuePlanned(ctx, startedAt, withinDays);
  const total = await reading(ctx, (s) => outbox.countDue(s.q, s.tenant.id, startedAt.toISOString(), NOTICE_KINDS));
  // One token for the whole run: rows it has tried carry it, so a failure is not retried until the next run.
  const token = randomUUID();
  const messages: ExpiryMessage[] = [];
  let sender: MailSender | undefined;
  try {
    for (;;) {
      const now = ctx.now().toISOString();
      const leaseUntil = new Date(Date.parse(now) + LEASE_MS).toISOString();
      const { cancelled, claimed } = await bookkeeping(ctx, async (q) => ({
        cancelled: await outbox.cancelObsolete(q, ctx.tenant.id, now),
        claimed: await outbox.claimDue(q, {
          tenantId: ctx.tenant.id,
          kinds: NOTICE_KINDS,
          token,
          now,
          leaseUntil,
          limit: BATCH,
        }),
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
