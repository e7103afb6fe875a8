/**
 * Reading requests and writing responses: bodies within a size limit, JSON in and out, and
 * typed errors turned into a status plus the error envelope the remote client turns back into
 * the same error (same code, message, hint and exit code).
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import { AkmError, ExitCode, type ErrorCode } from '../core/errors.js';
import type { WireErrorBody } from '../remote/wire.js';
import { AUTHENTICATION_CODES } from './authenticate.js';

export class HttpError extends AkmError {
  constructor(
    readonly status: number,
    code: ErrorCode,
    message: string,
    readonly headers: Record<string, string> = {},
  ) {
    // 429 and 503 mean "not now": exit 6 like any unavailable server; other 4xx are the caller's mistake.
    super(
      message,
      status === 503 || status === 429 ? ExitCode.unavailable : status >= 500 ? ExitCode.unexpected : ExitCode.usage,
      {
        code,
      },
    );
  }
}

/** The whole body, or a 413 as soon as it grows past `limit` bytes (before reading it all). */
export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > limit) return Promise.reject(tooLarge(limit));
  // Events rather than `for await`: this runs on every request, and the async iterator costs more.
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        reject(tooLarge(limit));
      } else {
        chunks.push(chunk);
      }
    };
    req.on('data', onData);
    req.once('end', () => resolve(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)));
    req.once('error', reject);
    // A client gone before the end of its body: settle, so nothing waits for it forever.
    req.once('close', () => {
      if (!req.complete)
        reject(new HttpError(400, 'request_aborted', 'the client closed the connection before sending the whole body'));
    });
  });
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, 'body_too_large', `request body larger than ${limit} bytes`);
}

export function parseJson(body: Buffer, contentType: string | undefined): unknown {
  if (body.length === 0) return {};
  if (contentType && !/^application\/json\b/i.test(contentType)) {
    throw new HttpError(415, 'unsupported_media_type', 'send the body as application/json');
  }
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw new HttpError(400, 'invalid_json', 'the request body is not valid JSON');
  }
}

export function statusFor(error: AkmError): number {
  if (error instanceof HttpError) return error.status;
  switch (error.exitCode) {
    case ExitCode.usage:
      return 400;
    case ExitCode.notFound:
      return 404;
    case ExitCode.conflict:
      return 409;
    case ExitCode.denied:
      return AUTHENTICATION_CODES.has(error.code) ? 401 : 403;
    case ExitCode.unavailable:
      return 503;
    default:
      return 500;
  }
}

export function errorBody(error: AkmError): WireErrorBody {
  return {
    error: {
      code: error.code,
      message: error.message,
      ...(error.hint ? { hint: error.hint } : {}),
      exitCode: error.exitCode,
    },
  };
}

/** Anything that is not an AkmError is a bug: the client gets no detail, the log gets the name. */
export const INTERNAL_ERROR = new AkmError('internal server error', ExitCode.unexpected, {
  code: 'internal',
  hint: 'the server log has the details',
});

export function sendJson(
  res: ServerResponse,
  status: number,
  value: unknown,
  headers: Record<string, string> = {},
): void {
  const body = JSON.stringify(value);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(body),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(body);
}
