/**
 * One webhook delivery over HTTP: the body signed by the Standard Webhooks library
 * (`standardwebhooks`, HMAC-SHA256 over "<id>.<timestamp>.<body>"), POSTed with its three
 * headers, judged by the status. The URL is checked again here, before every attempt: a row
 * edited in the store cannot turn a webhook into a request to some other scheme or host.
 * Redirects are not followed (a receiver that moved must be re-added), and the receiver gets
 * a bounded time to answer, so one slow endpoint cannot hold the queue.
 */
import { Webhook } from 'standardwebhooks';
import { AkmError } from '../core/errors.js';
import { checkWebhookUrl } from '../core/webhooks.js';

export const DELIVERY_TIMEOUT_MS = 10_000;
const MAX_ERROR_LENGTH = 200;

export interface OutgoingEvent {
  url: string;
  /** whsec_… */
  secret: string;
  /** msg_…: the same on every attempt, so the receiver can dedupe */
  eventId: string;
  payload: string;
}

export interface SendOutcome {
  ok: boolean;
  /** the receiver's status; null when none came back */
  status: number | null;
  /** why it failed, for `webhooks list` (never the secret, never the body) */
  error: string | null;
}

/** The three Standard Webhooks headers for this body, signed at `at` (the attempt, not the event). */
export function signedHeaders(event: OutgoingEvent, at: Date): Record<string, string> {
  return {
    'webhook-id': event.eventId,
    'webhook-timestamp': String(Math.floor(at.getTime() / 1000)),
    'webhook-signature': new Webhook(event.secret).sign(event.eventId, at, event.payload),
  };
}

function describeFailure(error: unknown, timeoutMs: number): string {
  if (error instanceof AkmError) return error.message;
  const e = error as { name?: string; cause?: { code?: string; message?: string }; message?: string };
  if (e.name === 'TimeoutError' || e.name === 'AbortError') return `no answer within ${timeoutMs / 1000} s`;
  const cause = e.cause?.code ?? e.cause?.message ?? e.message ?? 'the request failed';
  return `could not connect: ${cause}`.slice(0, MAX_ERROR_LENGTH);
}

export async function sendWebhook(
  event: OutgoingEvent,
  at: Date,
  options: { timeoutMs?: number; userAgent?: string } = {},
): Promise<SendOutcome> {
  const timeoutMs = options.timeoutMs ?? DELIVERY_TIMEOUT_MS;
  try {
    const url = checkWebhookUrl(event.url);
    const response = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        'user-agent': options.userAgent ?? 'akm-webhooks',
        ...signedHeaders(event, at),
      },
      body: event.payload,
      redirect: 'manual',
      signal: AbortSignal.timeout(timeoutMs),
    });
    // The answer's body means nothing to us; not reading it lets the connection go.
    await response.body?.cancel().catch(() => {});
    if (response.status >= 200 && response.status < 300) return { ok: true, status: response.status, error: null };
    const why = response.status >= 300 && response.status < 400 ? 'redirects are not followed' : 'not a 2xx answer';
    return { ok: false, status: response.status, error: `HTTP ${response.status}: ${why}` };
  } catch (error) {
    return { ok: false, status: null, error: describeFailure(error, timeoutMs) };
  }
}
