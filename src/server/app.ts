/**
 * One request, start to finish: route, read the body within its limit, authenticate the
 * signature, act through the local service as the signing key, answer JSON, log one line.
 * Authorisation is not decided here: the local service enforces it for every caller alike.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AkmError } from '../core/errors.js';
import type { LocalContext } from '../service/local/context.js';
import { LocalService } from '../service/local/service.js';
import { AuthenticationError, authenticate, type AuthDeps } from './authenticate.js';
import type { AuthFailureLog } from './authFailures.js';
import { HttpError, INTERNAL_ERROR, errorBody, parseJson, readBody, sendJson, statusFor } from './http.js';
import { describeError, type Logger, type LogLine } from './log.js';
import type { RateLimiter } from './rateLimit.js';
import type { ReplayGuard } from './replay.js';
import { Reply, type Router } from './router.js';
import { handleVerify } from './routes/verify.js';
import type { VerifyCache } from './verifyCache.js';

export interface AppState {
  base: LocalContext;
  auth: AuthDeps;
  router: Router;
  replay: ReplayGuard;
  /** every /v1/verify request, per client */
  verifyLimiter: RateLimiter;
  /** failed authentications, per client */
  authFailureLimiter: RateLimiter;
  authFailures: AuthFailureLog;
  /** what /v1/verify knows about keys; cleared after every change made through this server */
  verifyCache: VerifyCache;
  log: Logger;
  bodyLimit: number;
  debug: boolean;
  /** set while shutting down: answers then ask clients to close the connection */
  draining: boolean;
}

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

export function createHandler(state: AppState) {
  return (req: IncomingMessage, res: ServerResponse): void => {
    // handle() answers every error itself; this only guards against a failure while answering.
    handle(state, req, res).catch(() => res.destroy());
  };
}

async function handle(state: AppState, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const started = performance.now();
  const ip = req.socket.remoteAddress ?? 'unknown';
  const method = req.method ?? 'GET';
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  // Split by hand: a full URL parse on every request costs more than the hot path can spare.
  const pathname = q < 0 ? url : url.slice(0, q);
  const line: LogLine = { event: 'request', method, path: pathname.slice(0, 200), ip };
  if (state.draining) res.setHeader('connection', 'close');
  try {
    if (method === 'GET' && pathname === '/healthz') {
      sendJson(res, 200, { status: 'ok' });
    } else if (method === 'POST' && pathname === '/v1/verify') {
      await verify(state, req, res, ip, line);
    } else {
      await signedCall(state, req, res, {
        method,
        pathname,
        searchParams: new URLSearchParams(q < 0 ? '' : url.slice(q + 1)),
        ip,
        line,
      });
    }
  } catch (error) {
    fail(state, res, error, line);
  } finally {
    line.status = res.statusCode;
    line.ms = Math.round((performance.now() - started) * 10) / 10;
    state.log(line);
  }
}

async function verify(
  state: AppState,
  req: IncomingMessage,
  res: ServerResponse,
  ip: string,
  line: LogLine,
): Promise<void> {
  const limited = state.verifyLimiter.take(ip, Date.now());
  if (!limited.allowed) throw rateLimited(limited.retryAfterSeconds);
  const outcome = await handleVerify(state.base, state.verifyCache, req);
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

interface Target {
  method: string;
  pathname: string;
  searchParams: URLSearchParams;
  ip: string;
  line: LogLine;
}

async function signedCall(state: AppState, req: IncomingMessage, res: ServerResponse, t: Target): Promise<void> {
  const match = state.router.match(t.method, t.pathname);
  if (!match) throw new HttpError(404, 'no_such_route', `no such endpoint: ${t.method} ${t.pathname.slice(0, 100)}`);
  const blocked = state.authFailureLimiter.peek(t.ip, Date.now());
  if (!blocked.allowed) throw rateLimited(blocked.retryAfterSeconds);

  const body = await readBody(req, match.route.bodyLimit ?? state.bodyLimit);
  const mutating = MUTATING.has(t.method);
  let who;
  try {
    who = authenticate(state.auth, { method: t.method, url: req.url ?? '/', headers: req.headers, body }, mutating);
  } catch (error) {
    if (error instanceof AuthenticationError) noteFailure(state, error, t);
    throw error;
  }
  t.line.key = who.key.id;
  const service = LocalService.withActor(state.base, who.tenant, who.actor, `http:${t.ip}`);
  let result: unknown;
  try {
    result = await match.route.handler({
      service,
      params: match.params,
      query: t.searchParams,
      body: parseJson(body, req.headers['content-type']),
    });
  } finally {
    // Our own commits do not move SQLite's data_version: tell the verify cache ourselves.
    if (mutating) state.verifyCache.invalidate();
  }
  if (result instanceof Reply) sendJson(res, result.status, result.body);
  else sendJson(res, 200, result);
}

function noteFailure(state: AppState, error: AuthenticationError, t: Target): void {
  t.line.reason = error.reason;
  if (error.accessKeyId) t.line.key = error.accessKeyId;
  state.authFailureLimiter.take(t.ip, Date.now());
  // A request with no signature at all is a probe, not a sign-in attempt: the log has it.
  if (error.reason === 'auth_required') return;
  // An unknown key belongs to no tenant; its attempt is recorded in the server's home tenant.
  const tenantId = error.tenantId ?? state.base.tenant.id;
  state.authFailures.note(
    {
      tenantId,
      accessKeyId: error.accessKeyId,
      reason: error.reason,
      ip: t.ip,
      method: t.method,
      path: t.pathname.slice(0, 200),
      at: new Date().toISOString(),
    },
    Date.now(),
  );
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
