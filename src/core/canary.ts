/**
 * Canary keys, pure: keys planted where a thief would look (backups, CI logs, laptops) that can
 * never authenticate, and raise an alarm when anyone tries one. Every attempt is recorded (with
 * its source, counted per source like any use), but the alert itself (a bell to every
 * administrator, an e-mail, a webhook) goes out at most once per key every ten minutes, so
 * someone replaying a canary in a loop cannot bury the administrators in mail. The next alert
 * says how many attempts came in between.
 */
import { MINUTE_MS } from './duration.js';

export const CANARY_ALERT_INTERVAL_MS = 10 * MINUTE_MS;

/** Is an alert due for an attempt at `now`, given when the key last alerted (null: never)? */
export function canaryAlertDue(lastAlertAt: string | null, now: Date): boolean {
  if (lastAlertAt === null) return true;
  const last = Date.parse(lastAlertAt);
  // An unreadable or future time must not silence the alarm.
  return !Number.isFinite(last) || last > now.getTime() || now.getTime() - last >= CANARY_ALERT_INTERVAL_MS;
}
