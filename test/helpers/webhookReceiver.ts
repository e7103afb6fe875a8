/**
 * A real webhook receiver on 127.0.0.1 that checks every delivery the way the Standard Webhooks
 * specification says a consumer should, with code of its own (node:crypto, not the library
 * akm signs with): HMAC-SHA256 over "<webhook-id>.<webhook-timestamp>.<body>" keyed with the
 * base64-decoded secret after "whsec_", compared with each "v1," entry of webhook-signature,
 * and the timestamp within five minutes. It can be told to fail (500), to hang (never answer),
 * or to work again, and it dedupes on webhook-id as the specification tells consumers to.
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const TOLERANCE_S = 5 * 60;

/** The specification's verification, written from its text. Returns why it fails, or null when it verifies. */
export function verifyStandardWebhook(
  secret: string,
  headers: Record<string, string | string[] | undefined>,
  body: string,
  nowSeconds = Math.floor(Date.now() / 1000),
): string | null {
  const header = (name: string) => {
    const value = headers[name];
    return Array.isArray(value) ? value[0] : value;
  };
  const id = header('webhook-id');
  const timestamp = header('webhook-timestamp');
  const signatures = header('webhook-signature');
  if (!id || !timestamp || !signatures) return 'missing headers';
  if (!/^\d+$/.test(timestamp)) return 'bad timestamp';
  if (Math.abs(nowSeconds - Number(timestamp)) > TOLERANCE_S) return 'timestamp out of tolerance';
  if (!secret.startsWith('whsec_')) return 'not a whsec_ secret';
  const key = Buffer.from(secret.slice('whsec_'.length), 'base64');
  const expected = createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest();
  for (const entry of signatures.split(' ')) {
    const [version, signature] = entry.split(',');
    if (version !== 'v1' || !signature) continue;
    const given = Buffer.from(signature, 'base64');
    if (given.length === expected.length && timingSafeEqual(given, expected)) return null;
  }
  return 'no matching signature';
}

export interface Received {
  id: string;
  timestamp: string;
  body: string;
  payload: { type: string; timestamp: string; data: Record<string, unknown> };
  /** null: verified; else why not */
  problem: string | null;
  userAgent: string | undefined;
  answered: number | 'hung';
}

export type ReceiverMode = 'ok' | 'fail' | 'hang';

export class WebhookReceiver {
  mode: ReceiverMode = 'ok';
  readonly received: Received[] = [];
  private readonly hanging = new Set<ServerResponse>();
  private waiters: Array<() => void> = [];

  private constructor(
    private readonly server: Server,
    readonly url: string,
    /** set once the webhook exists (its secret is shown when it is added) */
    public secret: string,
  ) {}

  static async start(path = '/hook'): Promise<WebhookReceiver> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.address() as AddressInfo;
    const receiver = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`, '');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => receiver.handle(req, res));
    return receiver;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    let body = '';
    req.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
    req.on('end', () => {
      const answered = this.mode === 'hang' ? 'hung' : this.mode === 'fail' ? 500 : 204;
      let payload: Received['payload'];
      try {
        payload = JSON.parse(body) as Received['payload'];
      } catch {
        payload = { type: '(not JSON)', timestamp: '', data: {} };
      }
      this.received.push({
        id: String(req.headers['webhook-id'] ?? ''),
        timestamp: String(req.headers['webhook-timestamp'] ?? ''),
        body,
        payload,
        problem: verifyStandardWebhook(this.secret, req.headers, body),
        userAgent: req.headers['user-agent'],
        answered,
      });
      if (answered === 'hung') this.hanging.add(res);
      else res.writeHead(answered).end();
      for (const wake of this.waiters.splice(0)) wake();
    });
  }

  /**
   * What a consumer processes after dedupe: one delivery per webhook-id among those it handled
   * (answered 2xx, or handled while its answer never reached akm: a hang), verified ones only.
   */
  processed(): Map<string, Received> {
    const seen = new Map<string, Received>();
    for (const r of this.received) if (r.answered !== 500 && r.problem === null && !seen.has(r.id)) seen.set(r.id, r);
    return seen;
  }

  /** Resolves once `predicate` holds; rejects after `timeoutMs` with what was received so far. */
  async waitFor(predicate: (received: Received[]) => boolean, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!predicate(this.received)) {
      const left = deadline - Date.now();
      if (left <= 0)
        throw new Error(
          `webhook receiver: condition not met; received ${JSON.stringify(this.received.map((r) => [r.payload.type, r.answered]))}`,
        );
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, Math.min(left, 200));
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
