/**
 * Webhooks, pure: which events exist, which URLs may receive them, what a payload looks like,
 * and when a failed delivery is tried again. Signing and sending are in src/notify/.
 */
import { randomBytes } from 'node:crypto';
import { BASE32, BASE62, randomString } from './base.js';
import { DAY_MS, HOUR_MS } from './duration.js';
import { UsageError } from './errors.js';
import { isIPv4 } from './source.js';

/** Every event akm sends, as `type` in the payload (the Standard Webhooks convention: dot-separated, grouped). */
export const WEBHOOK_EVENTS = [
  'key.created',
  'key.rotated',
  'key.grace_ended',
  'key.activated',
  'key.deactivated',
  'key.deleted',
  'key.expiring',
  'key.canary_tripped',
  'policy.violation',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];
/** Sent only by `akm webhooks test`, to the one webhook tested. */
export const TEST_EVENT = 'webhook.test';

export const MAX_URL_LENGTH = 2048;
/** A delivery that has not succeeded this long after its event is given up (administrators get a bell). */
export const GIVE_UP_AFTER_MS = DAY_MS;
const FIRST_RETRY_MS = 10_000;
const LONGEST_WAIT_MS = HOUR_MS;

export const WEBHOOK_SECRET_PREFIX = 'whsec_';
const WEBHOOK_ID = /^wh_[A-Z2-7]{16}$/;

/** `wh_` + 16 base32 characters: names a webhook in commands and URLs; not secret. */
export function generateWebhookId(): string {
  return `wh_${randomString(BASE32, 16)}`;
}

export function isWebhookId(text: string): boolean {
  return WEBHOOK_ID.test(text);
}

/** `whsec_` + base64 of 32 random bytes: the form the Standard Webhooks libraries take as is. */
export function generateWebhookSecret(): string {
  return WEBHOOK_SECRET_PREFIX + randomBytes(32).toString('base64');
}

/** `msg_` + 24 base62 characters: one per event, the same on every retry (receivers dedupe on it). */
export function generateEventId(): string {
  return `msg_${randomString(BASE62, 24)}`;
}

/** `--events key.created,key.rotated` or `'*'` (every event, including ones added later). */
export function parseEvents(text: string | undefined): string[] {
  if (text === undefined || text.trim() === '*') return ['*'];
  const names = [...new Set(text.split(',').map((e) => e.trim()))].filter((e) => e !== '');
  if (names.length === 0) throw new UsageError('--events needs at least one event, or *');
  return checkEvents(names);
}

export function checkEvents(names: string[]): string[] {
  if (names.length === 1 && names[0] === '*') return names;
  for (const name of names)
    if (!(WEBHOOK_EVENTS as readonly string[]).includes(name))
      throw new UsageError(`unknown event "${name.slice(0, 40)}"`, {
        hint: `events: ${WEBHOOK_EVENTS.join(', ')}, or * for all`,
        code: 'invalid_event',
      });
  return names;
}

export function wantsEvent(events: readonly string[], type: string): boolean {
  return events.includes('*') || events.includes(type);
}

/** A URL's hostname (as the URL parser spells it: IPv4 dotted, IPv6 in brackets) on loopback. */
function isLoopback(host: string): boolean {
  return (isIPv4(host) && host.startsWith('127.')) || host === '[::1]';
}

/**
 * The ports fetch refuses to connect to (the WHATWG Fetch standard's "bad ports": mail, FTP, SSH,
 * X11, IRC…). A webhook there would fail on every delivery, so it is refused when added.
 */
const BAD_PORTS: ReadonlySet<number> = new Set([
  0, 1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

/** The port a delivery to this URL would connect to is one fetch refuses (or none at all: 0). */
function isBadPort(url: URL): boolean {
  return url.port !== '' && BAD_PORTS.has(Number(url.port));
}

/**
 * A webhook URL akm will send to: https anywhere, plain http only to a loopback address (given
 * as an IP literal: a name could resolve anywhere). No user name or password in it: they would be
 * shown by `webhooks list` and sent to every redirect. No port that fetch refuses. Checked when a
 * webhook is added and again before every delivery. A name is resolved when sending; a name that
 * resolves to another address between the checks and the delivery (DNS rebinding) is not guarded
 * against.
 */
export function checkWebhookUrl(text: string): string {
  const refuse = (why: string, hint?: string) =>
    new UsageError(`webhook URL refused: ${why}`, { hint, code: 'invalid_webhook_url' });
  if (text.length > MAX_URL_LENGTH) throw refuse(`longer than ${MAX_URL_LENGTH} characters`);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw refuse('not a URL', 'e.g. https://hooks.example.com/akm');
  }
  if (url.username !== '' || url.password !== '')
    throw refuse('it contains a user name or password', 'authenticate the sender by the signature instead');
  if (url.hash !== '') throw refuse('it has a #fragment, which is never sent');
  if (isBadPort(url))
    throw refuse(
      `port ${url.port} is one that HTTP clients refuse to connect to`,
      "use the endpoint's usual https port (443) or another port such as 8443",
    );
  if (url.protocol === 'https:') return url.href;
  if (url.protocol === 'http:') {
    if (isLoopback(url.hostname)) return url.href;
    throw refuse('plain http is allowed only to a loopback address', 'use https, or http://127.0.0.1:PORT/…');
  }
  throw refuse(`unsupported scheme ${url.protocol.slice(0, 20)}`, 'use https');
}

/** The JSON body of an event, as the Standard Webhooks specification recommends. Never a secret. */
export function webhookPayload(type: string, at: string, data: Record<string, unknown>): string {
  return JSON.stringify({ type, timestamp: at, data });
}

/**
 * How long to wait before trying a delivery again after its `attempt`-th failure (1-based):
 * exponential from 10 s, at most an hour, with "equal jitter" (half fixed, half random) so that
 * deliveries failing together do not all come back at the same moment. `random` is in [0, 1).
 */
export function retryDelayMs(attempt: number, random: number): number {
  const ceiling = Math.min(LONGEST_WAIT_MS, FIRST_RETRY_MS * 2 ** Math.min(Math.max(attempt - 1, 0), 20));
  return Math.round(ceiling / 2 + (ceiling / 2) * random);
}

/** Is a delivery of an event created at `createdAt`, that just failed at `now`, to be given up? */
export function givenUp(createdAt: string, now: Date): boolean {
  const created = Date.parse(createdAt);
  return !Number.isFinite(created) || now.getTime() - created >= GIVE_UP_AFTER_MS;
}
