/**
 * `akm serve`: the HTTP(S) server around the local service, its timers and its shutdown.
 *
 * Time limits close slow-loris connections: headers must arrive within `headersTimeoutMs`,
 * the whole request within `requestTimeoutMs`, and Node checks both every second rather than
 * its default 30. Shutdown stops accepting, lets in-flight requests finish (up to
 * `drainMs`), then writes the pending lastUsedAt notes and closes the store.
 */
import { readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { UsageError } from '../core/errors.js';
import type { MasterKeyOptions } from '../crypto/masterKey.js';
import { LocalBackend } from '../service/local/backend.js';
import { mailSettingsFromEnv, type MailSettings } from '../notify/smtp.js';
import { createHandler, type AppState } from './app.js';
import { AuthFailureLog } from './authFailures.js';
import { LastUsedBatcher } from './lastUsed.js';
import { assertTransportAllowed, urlFor, type ListenAddress } from './listen.js';
import { startExpiryJob } from './expiryJob.js';
import { describeError, type Logger } from './log.js';
import { RateLimiter } from './rateLimit.js';
import { ReplayGuard } from './replay.js';
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
  /** where the hourly expiry mail goes (default: AKM_SMTP_URL / AKM_MAIL_FROM); null turns it off */
  mail?: MailSettings | null;
  expiryJobIntervalMs?: number;
}

export interface RunningServer {
  url: string;
  address: ListenAddress;
  server: Server;
  /** the store as the server holds it: tests make it unavailable through this to check that verify fails closed */
  backend: LocalBackend;
  /** Stop accepting, finish in-flight requests, flush, close the store. Idempotent. */
  close(): Promise<void>;
}

function readPem(file: string, flag: string): Buffer {
  try {
    return readFileSync(file);
  } catch (error) {
    throw new UsageError(`${flag}: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? 'error'})`);
  }
}

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  assertTransportAllowed(options.listen, !!options.tls, !!options.insecureHttp);
  const tls = options.tls
    ? { cert: readPem(options.tls.certFile, '--tls-cert'), key: readPem(options.tls.keyFile, '--tls-key') }
    : undefined;
  const log = options.log;
  const onError = (what: string) => (error: unknown) =>
    log({ level: 'warn', event: what, ...describeError(error, !!options.debug) });
  // The batcher writes through the backend, which is opened with the batcher's `record`.
  const lastUsed = new LastUsedBatcher(
    (notes, waitMs) => backend.recordLastUsed(notes, waitMs),
    onError('last_used_flush_failed'),
  );
  // A wrong or missing master key stops the server here, not at the first request.
  const backend = await LocalBackend.open({
    store: options.store,
    masterKey: options.masterKey,
    now: options.now,
    env: options.env,
    recordUse: lastUsed.record,
  });
  try {
    const now = backend.base.now;
    const replay = new ReplayGuard();
    const state: AppState = {
      backend,
      auth: { backend, keys: backend.keys, now, replay, recordUse: lastUsed.record },
      router: buildRouter(),
      replay,
      verifyLimiter: new RateLimiter({
        ratePerSecond: options.verifyRate ?? DEFAULTS.verifyRate,
        burst: options.verifyBurst ?? DEFAULTS.verifyBurst,
      }),
      authFailureLimiter: new RateLimiter({ ratePerSecond: 1, burst: 20 }),
      authFailures: new AuthFailureLog((entries) => backend.appendAudit(entries), onError('audit_write_failed')),
      verifyCache: new VerifyCache(backend),
      log,
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

    const tick = setInterval(() => {
      state.replay.sweep(now());
      void state.authFailures.flush(Date.now());
    }, 1000);
    tick.unref();
    lastUsed.start();
    const mail = options.mail === undefined ? mailSettingsFromEnv(process.env) : options.mail;
    const expiryJob = startExpiryJob(
      backend,
      mail,
      log,
      options.expiryJobIntervalMs ?? DEFAULTS.expiryJobIntervalMs,
      !!options.debug,
    );

    let closing: Promise<void> | undefined;
    const close = () =>
      (closing ??= (async () => {
        state.draining = true;
        clearInterval(tick);
        // One more turn of the event loop accepts connections already queued in the kernel.
        await new Promise((resolve) => setImmediate(resolve));
        await drain(server, options.drainMs ?? DEFAULTS.drainMs);
        await expiryJob.stop();
        await lastUsed.stop();
        await state.authFailures.flush(Date.now(), true);
        await backend.close();
        log({ event: 'stopped' });
      })());

    const url = urlFor(address, !!tls);
    log({ event: 'listening', url, tls: !!tls, store: backend.store.location, engine: backend.store.engine });
    return { url, address, server, backend, close };
  } catch (error) {
    await lastUsed.stop();
    await backend.close();
    throw error;
  }
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
