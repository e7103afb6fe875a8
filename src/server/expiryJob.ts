/**
 * `akm serve` does what `akm notify-expiring` does from cron: once an hour, for every tenant
 * in the store and acting as that tenant's operator, it mails about keys expiring within two
 * days. Each key and expiry date is mailed once however often this runs, so a server and a
 * cron job side by side send nothing twice. Of several servers on one PostgreSQL store, only
 * the job leader runs it (the others would find nothing left to do). Off when no mail server
 * is configured (AKM_SMTP_URL), which the log says once at start.
 */
import type { LocalBackend } from '../service/local/backend.js';
import type { MailSettings } from '../notify/smtp.js';
import { describeError, type Logger } from './log.js';

export const EXPIRY_JOB_DAYS = 2;

export interface ExpiryJob {
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function startExpiryJob(
  backend: Pick<LocalBackend, 'tenants' | 'operatorService'>,
  mail: MailSettings | null,
  log: Logger,
  schedule: { intervalMs: number; leading: () => boolean },
  debug = false,
): ExpiryJob {
  if (!mail) {
    log({ event: 'expiry_mail_off', reason: 'AKM_SMTP_URL is not set' });
    return { stop: async () => {} };
  }
  let running: Promise<void> | undefined;
  const runOnce = async () => {
    let tenants;
    try {
      tenants = await backend.tenants();
    } catch (error) {
      log({ level: 'warn', event: 'expiry_mail_failed', ...describeError(error, debug) });
      return;
    }
    for (const tenant of tenants) {
      try {
        const service = await backend.operatorService(tenant, 'server:expiry-job', mail);
        const result = await service.notifyExpiring({ withinDays: EXPIRY_JOB_DAYS });
        if (result.messages.length > 0)
          log({ event: 'expiry_mail', tenant: tenant.id, keys: result.keys, sent: result.sent, failed: result.failed });
      } catch (error) {
        log({ level: 'warn', event: 'expiry_mail_failed', tenant: tenant.id, ...describeError(error, debug) });
      }
    }
  };
  const timer = setInterval(() => {
    if (!schedule.leading()) return;
    // A slow mail server must not pile runs up: skip a tick while the last run is still going.
    running ??= runOnce().finally(() => (running = undefined));
  }, schedule.intervalMs);
  timer.unref();
  return {
    stop: async () => {
      clearInterval(timer);
      await running;
    },
  };
}
