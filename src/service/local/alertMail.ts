/**
 * Sending the canary alarm's e-mail from the outbox: claimed in small batches under a lease,
 * like the expiry mail (expiryMail.ts), so a server and an `akm deliver` side by side never
 * send one message twice; a failure stays queued, with its error, for the next run.
 */
import { randomUUID } from 'node:crypto';
import { renderCanaryMail, type CanaryAlarmPayload } from '../../notify/canaryMessage.js';
import { smtpSender, type MailSender, type MailSettings } from '../../notify/smtp.js';
import * as outbox from '../../store/outbox.js';
import type { Store } from '../../store/types.js';
import { CANARY_KIND } from './canary.js';

const BATCH = 10;
const LEASE_MS = 10 * 60_000;

export async function deliverAlertMail(
  store: Store,
  tenantId: string,
  mail: MailSettings,
  now: () => Date,
): Promise<{ sent: number; failed: number }> {
  const token = randomUUID();
  const counts = { sent: 0, failed: 0 };
  let sender: MailSender | undefined;
  try {
    for (;;) {
      const at = now().toISOString();
      const leaseUntil = new Date(Date.parse(at) + LEASE_MS).toISOString();
      const claimed = await store.write(
        tenantId,
        (q) => outbox.claimDue(q, { tenantId, kinds: [CANARY_KIND], token, now: at, leaseUntil, limit: BATCH }),
        { now: now() },
      );
      if (claimed.length === 0) return counts;
      sender ??= await smtpSender(mail);
      for (const row of claimed) {
        const { subject, text } = renderCanaryMail(JSON.parse(row.payload) as CanaryAlarmPayload);
        try {
          const { messageId } = await sender.send({ to: row.recipient, subject, text });
          const sentAt = now();
          await store.write(tenantId, (q) => outbox.markSent(q, row.id, token, sentAt.toISOString(), messageId), {
            now: sentAt,
          });
          counts.sent += 1;
        } catch (error) {
          const message = error instanceof Error ? error.message : String(error);
          await store.write(tenantId, (q) => outbox.markFailed(q, row.id, token, message), { now: now() });
          counts.failed += 1;
        }
      }
    }
  } finally {
    sender?.close();
  }
}
