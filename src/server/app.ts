/**
 * One request, start to finish: route, read the body within its limit, authenticate the
 * signature, act through the local service as the signing key, answer JSON, log one line.
 * Authorisation is not decided here: the local service enforces it for every caller alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { redactSecrets } from '../core/credentials.js';
import { AkmError } from '../core/errors.js';
import type { LocalBackend } from '../service/local/backend.js';
import { AuthenticationError, authenticate, claimedKeyId, type AuthDeps } from './authenticate.js';
import type { AuthFailureLog } from './authFailures.js';
import { clientAddress, type TrustedProxies } from './clientAddress.js';
import { HttpError, INTERNAL_ERROR, errorBody, parseJson, readBody, sendJson, statusFor } from './http.js';
import { describeError, type Logger, type LogLine } from './log.js';
import type { MetricSources, RouteStats, ServerMetrics, VerifyResult } from './metrics.js';
import type { RateLimiter } from './rateLimit.js';
import type { RequestIds } from './requestId.js';
import { Reply, type Router } from './router.js';
import { sendHealthy, sendMetrics, sendReadiness } from './routes/ops.js';
import { handleVerify } from './routes/verify.js';
import type { FailureThrottle } from './throttle.js';
import type { VerifyCache } from './verifyCache.js';

export interface AppState {
  backend: LocalBackend;
  auth: AuthDeps;
  router: Router;
  /** every /v1/verify request, per client */
  verifyLimiter: RateLimiter;
  /** failed sign-ins, per client address and per (key, address), shared through the store */
  throttle: FailureThrottle;
  /** proxies whose X-Forwarded-For names the client (akm serve --trusted-proxy); null: none */
  trustedProxies: TrustedProxies | null;
  authFailures: AuthFailureLog;
  /** what /v1/verify knows about keys; cleared after every change made through this server */
  verifyCache: VerifyCache;
  /** after every change made through this server: webhook events may be queued */
  afterChange?: () => void;
  log: Logger;
  requestIds: RequestIds;
  metrics: ServerMetrics;
  metricSources: MetricSources;
  /** false when --metrics-listen serves /metrics on an address of its own */
  metricsHere: boolean;
  bodyLimit: number;
  debug: boolean;
  /** set while shutting down: answers then ask clients to close the connection */
  draining: boolean;
  /** the counts of POST /v1/verify, looked up once */
  verifyStats?: RouteStats;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createHandler(state: AppState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // handle() answers every error itself; this only guards against a failure while answering.
    handle(state, req, res).catch(() => res.destroy());
  };
}

/** Route labels in /metrics that no router pattern gives: the hot path, and every path no route has. */
const VERIFY = 'POST /v1/verify';
const UNMATCHED = 'unmatched';

async function handle(state: AppState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const ip = clientAddress(req.socket.remoteAddress, req.headers['x-forwarded-for'], state.trustedProxies);
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  // Split by hand: a full URL parse on every request costs more than the hot path can spare.
  const pathname = q < 0 ? url : url.slice(0, q);
  const requestId = state.requestIds.for(req.headers['x-request-id']);
  res.setHeader('x-request-id', requestId);
  // A client may put a secret in a path by mistake (`akm show <key string>` from another tool):
  // the log keeps its shape, never its value.
  const line: LogLine = { event: 'request', requestId, method, path: loggedPath(pathname), ip };
  const target: Target = { method, pathname, searchParams: undefined, ip, line, route: UNMATCHED };
  if (state.draining) res.setHeader('connection', 'close');
  try {
    if (method === 'POST' && pathname === '/v1/verify') {
      target.route = VERIFY;
      await verify(state, req, res, ip, line);
    } else if (method === 'GET' && unsigned(state, pathname)) {
      target.route = `GET ${pathname}`;
      await answerUnsigned(state, res, pathname);
    } else {
      target.searchParams = new URLSearchParams(q < 0 ? '' : url.slice(q + 1));
      await signedCall(state, req, res, target);
    }
  } catch (error) {
    fail(state, res, error, line);
  } finally {
    const ms = performance.now() - started;
    line.status = res.statusCode;
    line.ms = Math.round(ms * 10) / 10;
    state.log(line);
    routeStats(state, target.route).observe(res.statusCode, ms / 1000);
  }
}

/** The stats of the route just answered: /v1/verify's are kept at hand, it is the hot path. */
function routeStats(state: AppState, route: string): RouteStats {
  if (route === VERIFY) return (state.verifyStats ??= state.metrics.route(VERIFY));
  return state.metrics.route(route);
}

function unsigned(state: AppState, pathname: string): boolean {
  return pathname === '/healthz' || pathname === '/readyz' || (pathname === '/metrics' && state.metricsHere);
}

async function answerUnsigned(state: AppState, res: ServerResponse, pathname: string): Promise<void> {
  if (pathname === '/healthz') sendHealthy(res);
  else if (pathname === '/readyz') await sendReadiness(res, state.backend, state.log);
  else await sendMetrics(res, state.metrics, state.metricSources);
}

async function verify(
  state: AppState,
  req: IncomingMessage,
  res: ServerResponse,
  ip: string,
  line: LogLine,
): Promise<void> {
  const limited = state.verifyLimiter.take(ip, Date.now());
  if (!limited.allowed) {
    state.metrics.verify.rate_limited += 1;
    throw rateLimited(limited.retryAfterSeconds);
  }
  const outcome = await handleVerify(state.backend, state.verifyCache, req, ip);
  state.metrics.verify[verifyResult(outcome.status)] += 1;
  // The answer goes out at the end of this event-loop turn, together with the others worked
  // out in it: under load, waking the reading side costs the kernel more than the write, and
  // one wake-up then serves a batch (about +25% requests/s). At most one loop turn of delay,
  // the same for every outcome.
  await new Promise((resolve) => setImmediate(resolve));
  if ('result' in outcome) {
    line.key = outcome.result.accessKeyId;
    sendJson(res, 200, outcome.result);
  } else {
    res.writeHead(outcome.status, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(outcome.body),
      'cache-control': 'no-store',
    });
    res.end(outcome.body);
  }
}

function verifyResult(status: number): VerifyResult {
  if (status === 200) return 'valid';
  if (status === 401) return 'invalid';
  return status === 503 ? 'unavailable' : 'malformed';
}

interface Target {
  method: string;
  pathname: string;
  searchParams: URLSearchParams | undefined;
  ip: string;
  line: LogLine;
  /** the route's label in /metrics: its pattern, set once the request matched one */
  route: string;
}

/**
 * Throttling (throttle.ts) happens around authentication: a key that keeps failing from this
 * address is refused before any work, an unsigned request from an address over its limit too;
 * a failing request from such an address gets 429 instead of 401. A valid signature from a key
 * that is not itself under attack is always served.
 */
async function signedCall(state: AppState, req: IncomingMessage, res: ServerResponse, t: Target): Promise<void> {
  const match = state.router.match(t.method, t.pathname);
  if (!match) throw new HttpError(404, 'no_such_route', `no such endpoint: ${t.method} ${t.pathname.slice(0, 100)}`);
  t.route = `${match.route.method} ${match.route.pattern}`;
  const authorization = req.headers.authorization;
  const claimed = claimedKeyId(authorization);
  const held = claimed
    ? await state.throttle.keyBlocked(claimed, t.ip, Date.now())
    : authorization
      ? null
      : await state.throttle.addressBlocked(t.ip, Date.now());
  if (held !== null) throw rateLimited(held);

  const body = await readBody(req, match.route.bodyLimit ?? state.bodyLimit);
  const mutating = MUTATING.has(t.method);
  let who;
  try {
    who = await authenticate(
      state.auth,
      { method: t.method, url: req.url ?? '/', headers: req.headers, body },
      mutating,
      t.ip,
    );
  } catch (error) {
    if (error instanceof AuthenticationError) throw await noteFailure(state, error, t);
    throw error;
  }
  t.line.key = who.key.id;
  const service = state.backend.serviceFor(who.tenant, who.actor, `http:${t.ip}`);
  let result: unknown;
  try {
    result = await match.route.handler({
      service,
      params: match.params,
      query: t.searchParams ?? new URLSearchParams(),
      body: parseJson(body, req.headers['content-type']),
    });
  } finally {
    // The store's change feed does not report our own commits: tell the verify cache ourselves.
    if (mutating) {
      state.verifyCache.invalidate();
      state.afterChange?.();
    }
  }
  if (result instanceof Reply) sendJson(res, result.status, result.body);
  else sendJson(res, 200, result);
}

/** Count and record the failure; what to answer: the 401, or a 429 once over a limit. */
async function noteFailure(state: AppState, error: AuthenticationError, t: Target): Promise<AkmError> {
  t.line.reason = error.reason;
  if (error.accessKeyId) t.line.key = error.accessKeyId;
  const nowMs = Date.now();
  state.throttle.note(error.accessKeyId, t.ip, nowMs);
  const held =
    (await state.throttle.addressBlocked(t.ip, nowMs)) ??
    (error.accessKeyId ? await state.throttle.keyBlocked(error.accessKeyId, t.ip, nowMs) : null);
  // A request with no signature at all is a probe, not a sign-in attempt: the log has it.
  if (error.reason !== 'auth_required') recordFailure(state, error, t);
  return held === null ? error : rateLimited(held);
}

function recordFailure(state: AppState, error: AuthenticationError, t: Target): void {
  // An unknown key belongs to no tenant; its attempt is recorded in the server's home tenant. So
  // is a canary's, as an unknown key's: whoever reads the trail must not learn that the key they
  // tried was bait (its alarm, key.canary_tripped, is for administrators).
  const canary = error.reason === 'canary_key';
  const tenantId = (canary ? null : error.tenantId) ?? state.backend.base.tenant.id;
  state.authFailures.note(
    {
      tenantId,
      accessKeyId: error.accessKeyId,
      reason: canary ? 'unknown_key' : error.reason,
      ip: t.ip,
      method: t.method,
      path: loggedPath(t.pathname),
      at: new Date().toISOString(),
    },
    Date.now(),
  );
}

function loggedPath(pathname: string): string {
  return redactSecrets(pathname).slice(0, 200);
}

function rateLimited(retryAfterSeconds: number): HttpError {
  return new HttpError(429, 'rate_limited', 'too many requests from this client; slow down', {
    'retry-after': String(retryAfterSeconds),
  });
}

function fail(state: AppState, res: ServerResponse, error: unknown, line: LogLine): void {
  const known = error instanceof AkmError ? error : INTERNAL_ERROR;
  if (known === INTERNAL_ERROR) Object.assign(line, describeError(error, state.debug));
  line.code = known.code;
  if (res.headersSent) {
    res.destroy();
    return;
  }
  const status = statusFor(known);
  const headers = error instanceof HttpError ? { ...error.headers } : {};
  // After refusing an oversized body, the rest of it is not worth reading: drop the connection.
  if (status === 413) {
    headers.connection = 'close';
    res.once('finish', () => res.req.destroy());
  }
  sendJson(res, status, errorBody(known), headers);
}
