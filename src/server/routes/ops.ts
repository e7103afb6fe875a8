/**
 * What load balancers, orchestrators and Prometheus ask, unsigned:
 *   GET /healthz   the process is up (nothing else is checked: restarting it would not help)
 *   GET /readyz    the store answers and its schema is current: send it traffic (a server shutting
 *                  down stops accepting connections, which tells a load balancer just as well)
 *   GET /metrics   Prometheus text format (metrics.ts)
 * A not-ready answer names the reason by its code only: the store's location stays out of
 * unauthenticated answers (the log has the whole message).
 */
import type { ServerResponse } from 'node:http';
import { AkmError } from '../../core/errors.js';
import type { LocalBackend } from '../../service/local/backend.js';
import { sendJson } from '../http.js';
import type { Logger } from '../log.js';
import type { MetricSources, ServerMetrics } from '../metrics.js';

/** A load balancer's probe gives up after a few seconds; so does this check. */
const READY_TIMEOUT_MS = 2000;

export function sendHealthy(res: ServerResponse): void {
  sendJson(res, 200, { status: 'ok' });
}

export async function sendReadiness(
  res: ServerResponse,
  backend: Pick<LocalBackend, 'ready'>,
  log: Logger,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no answer from the store within ${READY_TIMEOUT_MS} ms`)),
      READY_TIMEOUT_MS,
    );
  });
  try {
    await Promise.race([backend.ready(), timeout]);
    sendJson(res, 200, { status: 'ready' });
  } catch (error) {
    const reason = error instanceof AkmError ? error.code : 'store_unreachable';
    log({ level: 'warn', event: 'not_ready', reason, error: error instanceof Error ? error.message : String(error) });
    sendJson(res, 503, { status: 'not_ready', reason });
  } finally {
    clearTimeout(timer);
  }
}

export async function sendMetrics(res: ServerResponse, metrics: ServerMetrics, sources: MetricSources): Promise<void> {
  const registry = await metrics.registry(sources);
  const body = await registry.metrics();
  res.writeHead(200, {
    'content-type': registry.contentType,
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
  });
  res.end(body);
}
