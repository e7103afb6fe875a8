/**
 * GET /metrics: what the server has done and how its store stands, in Prometheus's text
 * format, through prom-client's registry (with the process metrics it collects by default).
 *
 * Requests are counted on the hot path with plain numbers (a count per route and status, a
 * latency histogram per route) and turned into metrics only when scraped: /v1/verify answers
 * tens of thousands of requests a second, and a prom-client label lookup per request would
 * cost more than the rest of the bookkeeping. Routes are the API's patterns ("GET
 * /v1/keys/:ref"), never a key id or a path as sent, so the number of series stays fixed.
 */
import type { Counter, Gauge, Metric, Registry } from 'prom-client';

/** Upper bounds in seconds: a cached verification takes well under a millisecond, a signed write a few. */
const BOUNDS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5];

/** One value of a metric as prom-client's registry prints it (`metricName` for a histogram's parts). */
interface Sample {
  metricName?: string;
  labels: Record<string, string | number>;
  value: number;
}

export type VerifyResult = 'valid' | 'invalid' | 'malformed' | 'rate_limited' | 'unavailable';

/** One route's counts: by status, and its latencies in BOUNDS buckets (the last one: above them all). */
export class RouteStats {
  readonly statuses = new Map<number, number>();
  readonly buckets = new Array<number>(BOUNDS.length + 1).fill(0);
  sum = 0;
  count = 0;

  observe(status: number, seconds: number): void {
    this.statuses.set(status, (this.statuses.get(status) ?? 0) + 1);
    let i = 0;
    while (i < BOUNDS.length && seconds > BOUNDS[i]!) i++;
    this.buckets[i]! += 1;
    this.sum += seconds;
    this.count += 1;
  }
}

/** What the server knows at scrape time besides its own counts. */
export interface MetricSources {
  /** rows waiting in the outbox, by kind (a store query; throws when the store is down) */
  outboxDepth(): Promise<Array<{ kind: string; n: number }>>;
  store(): { listening: boolean | null; notifications: number; leading: boolean };
  cache(): { entries: number; oldestAgeSeconds: number; sinceClearedSeconds: number };
}

export class ServerMetrics {
  private readonly routes = new Map<string, RouteStats>();
  readonly verify: Record<VerifyResult, number> = {
    valid: 0,
    invalid: 0,
    malformed: 0,
    rate_limited: 0,
    unavailable: 0,
  };

  /** The counts of a route, made on first use (`label`: "METHOD /pattern"). */
  route(label: string): RouteStats {
    let stats = this.routes.get(label);
    if (!stats) this.routes.set(label, (stats = new RouteStats()));
    return stats;
  }

  /** The registry to scrape. prom-client is loaded at the first scrape: a server never scraped never loads it. */
  async registry(sources: MetricSources): Promise<Registry> {
    this.registered ??= this.build(sources);
    return this.registered;
  }

  private registered: Promise<Registry> | undefined;

  private async build(sources: MetricSources): Promise<Registry> {
    const prom = (await import('prom-client')).default;
    const registry = new prom.Registry();
    prom.collectDefaultMetrics({ register: registry });
    const counts = (name: string, help: string, values: () => Sample[], type = 'counter') =>
      registry.registerMetric(snapshot(name, help, type, values));
    counts('akm_http_requests_total', 'HTTP requests answered, by route and status', () =>
      [...this.routes].flatMap(([route, stats]) =>
        [...stats.statuses].map(([status, value]) => ({ labels: { route, status }, value })),
      ),
    );
    counts(
      'akm_http_request_duration_seconds',
      'time from the request to the answer, by route',
      () => [...this.routes].flatMap(([route, stats]) => histogram('akm_http_request_duration_seconds', route, stats)),
      'histogram',
    );
    counts('akm_verify_results_total', 'POST /v1/verify answers, by result', () =>
      Object.entries(this.verify).map(([result, value]) => ({ labels: { result }, value })),
    );
    const gauge = (name: string, help: string, labelNames: string[], collect: (this: Gauge) => void | Promise<void>) =>
      new prom.Gauge({ name, help, labelNames, registers: [registry], collect });
    // One store query per scrape feeds both: the depth, and whether the store answered it.
    let depth: { at: number; rows: Promise<Array<{ kind: string; n: number }> | null> } | undefined;
    const outbox = () => {
      if (!depth || Date.now() - depth.at > 1000)
        depth = { at: Date.now(), rows: sources.outboxDepth().catch(() => null) };
      return depth.rows;
    };
    gauge('akm_outbox_depth', 'outbox rows waiting to be sent, by kind', ['kind'], async function () {
      this.reset();
      for (const { kind, n } of (await outbox()) ?? []) this.set({ kind }, n);
    });
    gauge('akm_store_up', 'whether the store answered at the last scrape', [], async function () {
      this.set((await outbox()) === null ? 0 : 1);
    });
    gauge('akm_verify_cache_entries', 'keys the /v1/verify cache holds', [], function () {
      this.set(sources.cache().entries);
    });
    gauge('akm_verify_cache_oldest_entry_seconds', 'age of the oldest entry of the /v1/verify cache', [], function () {
      this.set(sources.cache().oldestAgeSeconds);
    });
    gauge('akm_verify_cache_cleared_seconds', 'time since the /v1/verify cache was last emptied', [], function () {
      this.set(sources.cache().sinceClearedSeconds);
    });
    gauge('akm_job_leader', 'whether this server runs the periodic jobs of the store', [], function () {
      this.set(sources.store().leading ? 1 : 0);
    });
    // Only where there is such a connection (PostgreSQL).
    if (sources.store().listening !== null)
      gauge('akm_store_listening', "whether the server hears of other processes' changes", [], function () {
        this.set(sources.store().listening ? 1 : 0);
      });
    new prom.Counter({
      name: 'akm_store_change_notifications_total',
      help: 'change notifications received from other processes (PostgreSQL)',
      registers: [registry],
      collect(this: Counter) {
        this.reset();
        this.inc(sources.store().notifications);
      },
    });
    return registry;
  }
}

function histogram(name: string, route: string, stats: RouteStats): Sample[] {
  let cumulative = 0;
  const buckets = BOUNDS.map((le, i) => {
    cumulative += stats.buckets[i]!;
    return { metricName: `${name}_bucket`, labels: { route, le }, value: cumulative };
  });
  return [
    ...buckets,
    { metricName: `${name}_bucket`, labels: { route, le: '+Inf' }, value: stats.count },
    { metricName: `${name}_sum`, labels: { route }, value: stats.sum },
    { metricName: `${name}_count`, labels: { route }, value: stats.count },
  ];
}

/**
 * A metric whose values are read from the server's own counts when scraped. prom-client's
 * registry takes any object that answers `get()` as its metric classes do.
 */
function snapshot(name: string, help: string, type: string, values: () => Sample[]): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    get: async () => ({ name, help, type, aggregator: 'sum', values: values() }),
  };
  return metric as unknown as Metric;
}
