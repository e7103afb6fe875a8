/**
 * `akm serve` sends what is queued, continuously: webhook events as they come due (checked
 * every second, and at once after a change or a canary's alert), and the canary alarm's mail
 * of the tenants that just alerted (all tenants once a minute, for retries). One run at a time;
 * a kick during a run asks for one more. The queue is in the store, so replicas and an
 * `akm deliver` beside the server share the work without sending anything twice.
 */
import type { LocalBackend } from '../service/local/backend.js';
import type { MailSettings } from '../notify/smtp.js';
import { describeError, type Logger } from './log.js';

export interface DeliveryJob {
  /** Something was queued: deliver soon (now, or right after the run in progress). */
  kick(alertedTenants?: Iterable<string>): void;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

const MAIL_RETRY_TICKS = 60;

export function startDeliveryJob(
  backend: Pick<LocalBackend, 'deliverWebhooks' | 'deliverAlertMail' | 'tenants'>,
  mail: MailSettings | null,
  log: Logger,
  intervalMs: number,
  debug = false,
): DeliveryJob {
  let running: Promise<void> | undefined;
  let again = false;
  let stopped = false;
  let ticks = 0;
  const mailDue = new Set<string>();
  const warn = (event: string, error: unknown, more: Record<string, unknown> = {}) =>
    log({ level: 'warn', event, ...more, ...describeError(error, debug) });

  const runOnce = async () => {
    try {
      const counts = await backend.deliverWebhooks();
      if (counts && counts.sent + counts.failed + counts.gaveUp > 0) log({ event: 'webhooks', ...counts });
    } catch (error) {
      warn('webhook_delivery_failed', error);
    }
    if (!mail) return;
    if (ticks % MAIL_RETRY_TICKS === 0) for (const t of await backend.tenants().catch(() => [])) mailDue.add(t.id);
    for (const tenant of [...mailDue]) {
      mailDue.delete(tenant);
      try {
        const sent = await backend.deliverAlertMail(tenant, mail);
        if (sent.sent + sent.failed > 0) log({ event: 'alert_mail', tenant, ...sent });
      } catch (error) {
        warn('alert_mail_failed', error, { tenant });
      }
    }
  };
  const run = () => {
    if (stopped) return;
    if (running) {
      again = true;
      return;
    }
    running = runOnce().finally(() => {
      running = undefined;
      if (again) {
        again = false;
        run();
      }
    });
  };
  const timer = setInterval(() => {
    ticks += 1;
    run();
  }, intervalMs);
  timer.unref();
  return {
    kick(alertedTenants = []) {
      for (const tenant of alertedTenants) mailDue.add(tenant);
      run();
    },
    stop: async () => {
      stopped = true;
      clearInterval(timer);
      await running;
    },
  };
}
