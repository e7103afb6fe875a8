/**
 * `akm serve`: the HTTP(S) server around the local service, its timers and its shutdown.
 *
 * Time limits close slow-loris connections: headers must arrive within `headersTimeoutMs`,
 * the whole request within `requestTimeoutMs`, and Node checks both every second rather than
 * its default 30. Shutdown stops accepting, lets in-flight requests finish (up to
 * `drainMs`), then writes the pending lastUsedAt notes and closes the store.
 */
import { createPrivateKey, X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { createSecureContext } from 'node:tls';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../core/errors.js';
import type { MasterKeyOptions } from '../crypto/masterKey.js';
import { LocalBackend } from '../service/local/backend.js';
import { mailSettingsFromEnv, type MailSettings } from '../notify/smtp.js';
import { createHandler, type AppState } from './app.js';
import { AuthFailureLog } from './authFailures.js';
import { TrustedProxies } from './clientAddress.js';
import { startDeliveryJob, type DeliveryJob } from './deliveryJob.js';
import { UsageBatcher } from './usage.js';
import { assertTransportAllowed, urlFor, type ListenAddress } from './listen.js';
import { startExpiryJob } from './expiryJob.js';
import { describeError, type Logger } from './log.js';
import { ServerMetrics, type MetricSources } from './metrics.js';
import { listenForMetrics } from './metricsListener.js';
import { RateLimiter } from './rateLimit.js';
import { ReplayGuard } from './replay.js';
import { RequestIds } from './requestId.js';
import { FailureThrottle, type ThrottleLimits } from './throttle.js';
import { VerifyCache } from './verifyCache.js';
import { buildRouter } from './routes/index.js';
import { DEFAULTS } from './defaults.js';

export { DEFAULTS };

export interface ServeOptions {
  /** a SQLite file path or a postgres:// URL */
  store: string;
  /** supplies PGPASSWORD, PGPASSFILE and HOME for a PostgreSQL store */
  env?: NodeJS.ProcessEnv;
  masterKey: MasterKeyOptions;
  listen: ListenAddress;
  tls?: { certFile: string; keyFile: string };
  insecureHttp?: boolean;
  log: Logger;
  /** /v1/verify requests per second per client, and the burst above it */
  verifyRate?: number;
  verifyBurst?: number;
  bodyLimit?: number;
  headersTimeoutMs?: number;
  requestTimeoutMs?: number;
  drainMs?: number;
  now?: () => Date;
  debug?: boolean;
  /** proxies (CIDR ranges) whose X-Forwarded-For names the client */
  trustedProxies?: string[];
  throttle?: ThrottleLimits;
  /** how often ended graces, old replay tokens and failure counts are swept (default: every minute) */
  sweepIntervalMs?: number;
  /** how often the notes of uses (lastUsedAt, sources, canary attempts) are written (default: every second) */
  lastUsedIntervalMs?: number;
  /** how often due webhook events are looked for (default: every second; changes kick it sooner) */
  deliveryIntervalMs?: number;
  /** where the hourly expiry mail goes (default: AKM_SMTP_URL / AKM_MAIL_FROM); null turns it off */
  mail?: MailSettings | null;
  expiryJobIntervalMs?: number;
  /** serve /metrics here instead of on the main listener */
  metricsListen?: ListenAddress;
}

export interface RunningServer {
  url: string;
  address: ListenAddress;
  server: Server;
  /** the store as the server holds it: tests make it unavailable through this to check that verify fails closed */
  backend: LocalBackend;
  /** where /metrics is served when --metrics-listen moved it */
  metricsUrl?: string;
  /** Stop accepting, finish in-flight requests, flush, close the store. Idempotent. */
  close(): Promise<void>;
}

function readPem(file: string, flag: string, parse: (pem: Buffer) => unknown, what: string): Buffer {
  let pem: Buffer;
  try {
    pem = readFileSync(file);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`, {
      code: 'tls_invalid',
    });
  }
  try {
    parse(pem);
  } catch {
    throw new UsageError(`${flag}: ${file} is not a ${what}`, { code: 'tls_invalid', hint: TLS_HINT });
  }
  return pem;
}

const TLS_HINT = 'pass PEM files, e.g. --tls-cert fullchain.pem --tls-key privkey.pem';

/**
 * Both files readable, each what it claims to be, and the key the certificate's: else a usage error
 * naming the file.
 */
function loadTls(files: { certFile: string; keyFile: string }): { cert: Buffer; key: Buffer } {
  const cert = readPem(files.certFile, '--tls-cert', (pem) => new X509Certificate(pem), 'PEM certificate');
  const key = readPem(files.keyFile, '--tls-key', (pem) => createPrivateKey(pem), 'PEM private key');
  try {
    createSecureContext({ cert, key });
  } catch {
    throw new UsageError(`--tls-key: ${files.keyFile} is not the private key of the certificate in ${files.certFile}`, {
      code: 'tls_invalid',
      hint: TLS_HINT,
    });
  }
  return { cert, key };
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  assertTransportAllowed(options.listen, !!options.tls, !!options.insecureHttp);
  const tls = options.tls ? loadTls(options.tls) : undefined;
  const trustedProxies = options.trustedProxies?.length ? new TrustedProxies(options.trustedProxies) : null;
  const log = options.log;
  const onError = (what: string) => (error: unknown) =>
    log({ level: 'warn', event: what, ...describeError(error, !!options.debug) });
  // The batcher writes through the backend, which is opened with the batcher's `record`.
  let delivery: DeliveryJob | undefined;
  let cache: VerifyCache | undefined;
  const usage = new UsageBatcher(
    {
      recordUses: (lastUsed, slots, waitMs) => backend.recordUses(lastUsed, slots, waitMs),
      recordCanaryTrips: (trips) => backend.recordCanaryTrips(trips),
    },
    onError('last_used_flush_failed'),
    // A grace moved on by uses of the old secret: the cached rows of those keys are stale. An
    // alert: its mail and webhook event go out now.
    ({ moved, alerted }) => {
      cache?.forget(moved);
      if (alerted.size > 0) delivery?.kick(alerted);
    },
    options.lastUsedIntervalMs,
  );
  // A wrong or missing master key stops the server here, not at the first request.
  const backend = await LocalBackend.open({
    store: options.store,
    masterKey: options.masterKey,
    now: options.now,
    env: options.env,
    recordUse: usage.record,
    onCanary: usage.noteCanary,
  });
  try {
    const exposure = backend.exposure();
    if (exposure) log({ level: 'warn', event: 'store_exposed', message: exposure.message, hint: exposure.hint });
    const now = backend.base.now;
    const verifyCache = (cache = new VerifyCache(backend));
    const metrics = new ServerMetrics();
    const metricSources: MetricSources = {
      outboxDepth: () => backend.outboxDepth(),
      store: () => backend.status(),
      cache: () => verifyCache.stats(),
    };
    const state: AppState = {
      backend,
      auth: {
        backend,
        keys: backend.keys,
        now,
        replay: new ReplayGuard(backend),
        recordUse: usage.record,
        onCanary: usage.noteCanary,
      },
      router: buildRouter(),
      verifyLimiter: new RateLimiter({
        ratePerSecond: options.verifyRate ?? DEFAULTS.verifyRate,
        burst: options.verifyBurst ?? DEFAULTS.verifyBurst,
      }),
      throttle: new FailureThrottle(backend, onError('failure_count_flush_failed'), options.throttle),
      trustedProxies,
      authFailures: new AuthFailureLog((entries) => backend.appendAudit(entries), onError('audit_write_failed')),
      verifyCache,
      afterChange: () => delivery?.kick(),
      log,
      requestIds: new RequestIds(),
      metrics,
      metricSources,
      metricsHere: !options.metricsListen,
      bodyLimit: options.bodyLimit ?? DEFAULTS.bodyLimit,
      debug: !!options.debug,
      draining: false,
    };
    const serverOptions = {
      headersTimeout: options.headersTimeoutMs ?? DEFAULTS.headersTimeoutMs,
      requestTimeout: options.requestTimeoutMs ?? DEFAULTS.requestTimeoutMs,
      connectionsCheckingInterval: 1000,
      keepAliveTimeout: 5000,
    };
    const handler = createHandler(state);
    // A TLS handshake that never finishes is a slow-loris too: it gets as long as headers do.
    const server = tls
      ? createHttpsServer({ ...serverOptions, ...tls, handshakeTimeout: serverOptions.headersTimeout }, handler)
      : createHttpServer(serverOptions, handler);
    await listen(server, options.listen);
    const bound = server.address() as AddressInfo;
    const address = { host: options.listen.host, port: bound.port };
    const metricsServer = options.metricsListen
      ? await listenForMetrics(options.metricsListen, metrics, metricSources).catch(async (error: unknown) => {
          server.close();
          throw error;
        })
      : undefined;

    const leader = leadership(backend, log);
    const tick = setInterval(() => {
      void state.throttle.flush(Date.now());
      void state.authFailures.flush(Date.now());
      leader.check();
    }, 1000);
    tick.unref();
    // Once a minute, even when nothing else writes (LocalBackend.sweep); by the job leader only.
    const sweep = setInterval(() => {
      if (leader.check()) void backend.sweep(Date.now()).catch(onError('sweep_failed'));
    }, options.sweepIntervalMs ?? DEFAULTS.sweepIntervalMs);
    sweep.unref();
    usage.start();
    const mail = options.mail === undefined ? mailSettingsFromEnv(process.env) : options.mail;
    delivery = startDeliveryJob(
      backend,
      mail,
      log,
      options.deliveryIntervalMs ?? DEFAULTS.deliveryIntervalMs,
      !!options.debug,
    );
    const expiryJob = startExpiryJob(
      backend,
      mail,
      log,
      { intervalMs: options.expiryJobIntervalMs ?? DEFAULTS.expiryJobIntervalMs, leading: () => leader.check() },
      !!options.debug,
    );

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        state.draining = true;
        clearInterval(tick);
        clearInterval(sweep);
        // One more turn of the event loop accepts connections already queued in the kernel.
        await new Promise((resolve) => setImmediate(resolve));
        await drain(server, options.drainMs ?? DEFAULTS.drainMs);
        metricsServer?.closeAllConnections();
        await new Promise((resolve) => (metricsServer ? metricsServer.close(resolve) : resolve(undefined)));
        await expiryJob.stop();
        await usage.stop();
        await delivery!.stop();
        await state.throttle.flush(Date.now());
        await state.authFailures.flush(Date.now(), true);
        await backend.close();
        log({ event: 'stopped' });
      })());

    const url = urlFor(address, !!tls);
    const metricsUrl = metricsServer
      ? urlFor({ host: options.metricsListen!.host, port: (metricsServer.address() as AddressInfo).port }, false)
      : undefined;
    log({
      event: 'listening',
      url,
      tls: !!tls,
      store: backend.store.location,
      engine: backend.store.engine,
      ...(metricsUrl ? { metrics: `${metricsUrl}/metrics` } : {}),
    });
    return { url, address, server, backend, close, ...(metricsUrl ? { metricsUrl } : {}) };
  } catch (error) {
    await usage.stop();
    await delivery?.stop();
    await backend.close();
    throw error;
  }
}

/**
 * Whether this server runs the store's periodic jobs (the sweep, the expiry mail): on
 * PostgreSQL the one replica holding the store's job lock, on SQLite always. A change is logged.
 */
function leadership(backend: LocalBackend, log: Logger): { check(): boolean } {
  let known: boolean | undefined;
  return {
    check() {
      const leading = backend.status().leading;
      if (leading !== known && (known !== undefined || backend.store.engine === 'postgres'))
        log({ event: 'job_leader', leading });
      known = leading;
      return leading;
    },
  };
}

function listen(server: Server, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      const hint =
        error.code === 'EADDRINUSE' ? 'another process uses that port; pick another with --listen' : undefined;
      reject(
        new UsageError(`cannot listen on ${address.host}:${address.port} (${error.code ?? error.message})`, {
          hint,
          code: 'listen_failed',
        }),
      );
    };
    server.once('error', onError);
    server.listen(address.port, address.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
}

/**
 * Resolves when every connection has ended. In-flight requests finish. Idle keep-alive
 * connections are closed, but only after a short grace: a client that connected just before
 * the signal may have its request still unread in the socket buffer, and closing its
 * connection as "idle" would lose that request. Whatever is still open after `drainMs` is cut.
 */
function drain(server: Server, drainMs: number): Promise<void> {
  return new Promise((resolve) => {
    let idle: NodeJS.Timeout | undefined;
    const grace = setTimeout(() => {
      server.closeIdleConnections();
      idle = setInterval(() => server.closeIdleConnections(), 50);
    }, IDLE_GRACE_MS);
    const force = setTimeout(() => server.closeAllConnections(), drainMs);
    server.close(() => {
      clearTimeout(grace);
      clearInterval(idle);
      clearTimeout(force);
      resolve();
    });
  });
}

const IDLE_GRACE_MS = 1000;
