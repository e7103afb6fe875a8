/**
 * The HTTP side of remote mode: every request signed with SigV4 by aws4 (service "akm") with a
 * fresh signed nonce (reads too: a captured request cannot be sent again, not even a GET, whose
 * answer may hold what the caller may read), and every answer turned back into either data or
 * the very error the local service would have thrown (same class, code, hint, exit code).
 */
import aws4 from 'aws4';
import { randomBytes } from 'node:crypto';
import {
  AkmError,
  ConflictError,
  DeniedError,
  ExitCode,
  NotFoundError,
  UnavailableError,
  UsageError,
  isErrorCode,
} from '../core/errors.js';
import { NONCE_HEADER, SIGV4_SERVICE, TENANT_HEADER, type WireError } from './wire.js';

export interface RemoteCredentials {
  accessKeyId: string;
  secretAccessKey: string;
}

export interface ClientOptions {
  /** the server, e.g. https://akm.example.com */
  baseUrl: string;
  /**
   * The key to sign with, or how to find it: resolved on the first signed request, so
   * `akm verify` (unsigned) works against a server without logging in.
   */
  credentials: RemoteCredentials | (() => RemoteCredentials & { tenantId?: string });
  /** sent as x-akm-tenant: the server refuses a key of another tenant (default: the credentials' tenant) */
  tenantId?: string;
  region?: string;
  timeoutMs?: number;
  fetch?: typeof fetch;
}

export interface RequestOptions {
  query?: Record<string, string | number | boolean | undefined>;
  body?: unknown;
  /** /v1/verify needs no signature: the presented secret is the proof */
  unsigned?: boolean;
}

export interface RawResponse {
  status: number;
  json: unknown;
}

export class SignedClient {
  readonly baseUrl: string;
  private resolved: (RemoteCredentials & { tenantId?: string }) | undefined;

  constructor(private readonly options: ClientOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
  }

  private credentials(): RemoteCredentials & { tenantId?: string } {
    const given = this.options.credentials;
    return (this.resolved ??= typeof given === 'function' ? given() : given);
  }

  /** Data on 2xx; the rebuilt typed error otherwise. */
  async call<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    const response = await this.send(method, path, options);
    if (response.status >= 200 && response.status < 300) return response.json as T;
    throw this.errorFrom(response);
  }

  async send(method: string, path: string, options: RequestOptions = {}): Promise<RawResponse> {
    const url = new URL(this.baseUrl + path);
    for (const [name, value] of Object.entries(options.query ?? {}))
      if (value !== undefined) url.searchParams.set(name, String(value));
    const body = options.body === undefined ? undefined : JSON.stringify(options.body);
    const headers: Record<string, string> = { accept: 'application/json' };
    if (body !== undefined) headers['content-type'] = 'application/json';
    if (!options.unsigned) {
      const tenantId = this.options.tenantId ?? this.credentials().tenantId;
      if (tenantId) headers[TENANT_HEADER] = tenantId;
      headers[NONCE_HEADER] = randomBytes(16).toString('base64url');
      this.sign(method, url, headers, body);
    }
    let response: Response;
    try {
      response = await (this.options.fetch ?? fetch)(url, {
        method,
        headers,
        body,
        signal: AbortSignal.timeout(this.options.timeoutMs ?? 30_000),
        redirect: 'error',
      });
    } catch (error) {
      throw this.unreachable(error);
    }
    const text = await response.text().catch(() => '');
    try {
      return { status: response.status, json: text === '' ? null : JSON.parse(text) };
    } catch {
      throw new UnavailableError(
        `unexpected answer from the akm server at ${this.baseUrl} (HTTP ${response.status}, not JSON)`,
        { hint: 'check that the URL points at `akm serve`', code: 'server_bad_response' },
      );
    }
  }

  /** aws4 signs host, x-amz-date, content-type, the nonce and the tenant header, and the body hash. */
  private sign(method: string, url: URL, headers: Record<string, string>, body: string | undefined): void {
    const signed = aws4.sign(
      {
        host: url.host,
        method,
        path: url.pathname + url.search,
        headers: { ...headers },
        body: body ?? '',
        service: SIGV4_SERVICE,
        region: this.options.region ?? 'us-east-1',
      },
      { accessKeyId: this.credentials().accessKeyId, secretAccessKey: this.credentials().secretAccessKey },
    );
    for (const [name, value] of Object.entries(signed.headers ?? {})) {
      // fetch sets Host and Content-Length itself, to the same values aws4 signed.
      if (/^(host|content-length)$/i.test(name)) continue;
      headers[name.toLowerCase()] = String(value);
    }
  }

  errorFrom(response: RawResponse): AkmError {
    const wire = (response.json as { error?: Partial<WireError> } | null)?.error;
    if (wire && typeof wire.code === 'string' && typeof wire.message === 'string') {
      return rebuildError({
        code: wire.code,
        message: wire.message,
        hint: typeof wire.hint === 'string' ? wire.hint : undefined,
        exitCode: Number(wire.exitCode),
      });
    }
    return new UnavailableError(`unexpected answer from the akm server at ${this.baseUrl} (HTTP ${response.status})`, {
      code: 'server_bad_response',
    });
  }

  private unreachable(error: unknown): UnavailableError {
    const err = error as { name?: string; cause?: { code?: string; message?: string } };
    if (err.name === 'TimeoutError') {
      return new UnavailableError(`the akm server at ${this.baseUrl} did not answer in time`, {
        hint: 'check the server, or try again',
        code: 'server_timeout',
      });
    }
    const code = err.cause?.code ?? err.cause?.message ?? 'network error';
    const tls = /CERT|SSL|TLS/i.test(code);
    return new UnavailableError(`cannot reach the akm server at ${this.baseUrl} (${code})`, {
      hint: tls
        ? "the server's certificate is not trusted here: NODE_EXTRA_CA_CERTS=/path/to/ca.pem akm …"
        : 'check the URL and that `akm serve` is running there',
      code: 'server_unreachable',
    });
  }
}

/** The same class the local service throws, so callers (and exit codes) cannot tell the difference. */
export function rebuildError(wire: { code: string; message: string; hint?: string; exitCode: number }): AkmError {
  const { message, hint } = wire;
  // The server speaks the same list of codes. One this akm does not know (a newer server's)
  // becomes the generic code of its exit code: a script only ever sees documented codes.
  const code = isErrorCode(wire.code) ? wire.code : undefined;
  switch (wire.exitCode) {
    case ExitCode.usage:
      return new UsageError(message, { hint, code });
    case ExitCode.notFound:
      return new NotFoundError(message, { hint, code });
    case ExitCode.conflict:
      return new ConflictError(message, { hint, code });
    case ExitCode.denied:
      return new DeniedError(message, { hint, code });
    case ExitCode.unavailable:
      return new UnavailableError(message, { hint, code });
    default:
      return new AkmError(message, ExitCode.unexpected, { hint, code: code ?? 'unexpected' });
  }
}
