/**
 * `akm serve --metrics-listen ADDR`: /metrics on an address of its own (an internal interface
 * the Prometheus server reaches, say), and no longer on the main listener. Plain HTTP, as
 * Prometheus scrapes: the metrics hold counts and states, never a key id, a name or a secret.
 */
import { createServer, type Server } from 'node:http';
import { UsageError } from '../core/errors.js';
import { sendJson } from './http.js';
import type { ListenAddress } from './listen.js';
import type { MetricSources, ServerMetrics } from './metrics.js';
import { sendMetrics } from './routes/ops.js';

export async function listenForMetrics(
  address: ListenAddress,
  metrics: ServerMetrics,
  sources: MetricSources,
): Promise<Server> {
  const server = createServer({ requestTimeout: 10_000, headersTimeout: 5_000 }, (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method === 'GET' && path === '/metrics') {
      sendMetrics(res, metrics, sources).catch(() => res.destroy());
    } else {
      sendJson(res, 404, { error: { code: 'no_such_route', message: 'this address serves GET /metrics only' } });
    }
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (error: NodeJS.ErrnoException) =>
      reject(
        new UsageError(`--metrics-listen: cannot listen on ${address.host}:${address.port} (${error.code})`, {
          code: 'listen_failed',
        }),
      ),
    );
    server.listen(address.port, address.host, () => resolve());
  });
  return server;
}
