/**
 * AWS Signature Version 4, server side. The signature itself is recomputed by aws4 (the same
 * well-kept implementation the remote client signs with) from exactly the headers the client
 * says it signed; this module only parses the Authorization header, checks the parts aws4
 * takes on trust (scope, date, payload hash) and compares in constant time.
 */
import aws4 from 'aws4';
import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';
import { SIGV4_SERVICE } from '../remote/wire.js';

export const MAX_SKEW_MS = 5 * 60_000;
const ALGORITHM = 'AWS4-HMAC-SHA256';
const AUTH_HEADER =
  /^AWS4-HMAC-SHA256\s+Credential=([^,\s]+)\s*,\s*SignedHeaders=([^,\s]+)\s*,\s*Signature=([0-9a-f]{64})\s*$/;
const AMZ_DATE = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z$/;

export interface ParsedAuthorization {
  accessKeyId: string;
  date: string;
  region: string;
  service: string;
  signedHeaders: string[];
  signature: string;
}

/** Why a request is not even a candidate for checking: each becomes a 401 with its own code. */
export class SignatureFormatError extends Error {
  constructor(
    readonly code: 'auth_required' | 'auth_malformed' | 'clock_skew',
    message: string,
  ) {
    super(message);
  }
}

export function parseAuthorization(header: string | undefined): ParsedAuthorization {
  if (!header)
    throw new SignatureFormatError(
      'auth_required',
      'this request needs an AWS SigV4 signature made with an akm access key',
    );
  if (!header.startsWith(ALGORITHM))
    throw new SignatureFormatError('auth_malformed', `only ${ALGORITHM} signatures are accepted`);
  const match = AUTH_HEADER.exec(header);
  if (!match) throw new SignatureFormatError('auth_malformed', 'malformed Authorization header');
  const [, credential, signed, signature] = match as unknown as [string, string, string, string];
  const scope = credential.split('/');
  if (scope.length !== 5 || scope[4] !== 'aws4_request')
    throw new SignatureFormatError('auth_malformed', 'malformed credential scope');
  const [accessKeyId, date, region, service] = scope as [string, string, string, string];
  if (service !== SIGV4_SERVICE)
    throw new SignatureFormatError('auth_malformed', `the credential scope must name the service "${SIGV4_SERVICE}"`);
  const signedHeaders = signed.split(';');
  if (!signedHeaders.includes('host') || !signedHeaders.includes('x-amz-date')) {
    throw new SignatureFormatError('auth_malformed', 'the signature must cover the host and x-amz-date headers');
  }
  return { accessKeyId, date, region, service, signedHeaders, signature };
}

/** The request time, checked against our clock and the credential scope. */
export function checkRequestTime(amzDate: string | undefined, scopeDate: string, now: Date): Date {
  const m = amzDate ? AMZ_DATE.exec(amzDate) : null;
  if (!m) throw new SignatureFormatError('auth_malformed', 'missing or malformed x-amz-date header');
  const at = new Date(Date.UTC(+m[1]!, +m[2]! - 1, +m[3]!, +m[4]!, +m[5]!, +m[6]!));
  if (amzDate!.slice(0, 8) !== scopeDate)
    throw new SignatureFormatError('auth_malformed', 'the credential scope date does not match x-amz-date');
  if (Math.abs(now.getTime() - at.getTime()) > MAX_SKEW_MS) {
    throw new SignatureFormatError(
      'clock_skew',
      'the request time is more than 5 minutes away from the server clock; check the clock of the calling machine',
    );
  }
  return at;
}

export function payloadHash(body: Buffer): string {
  return createHash('sha256').update(body).digest('hex');
}

export interface SignedRequest {
  method: string;
  /** the request target exactly as received: path and query */
  url: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

/**
 * Recompute the signature with a candidate secret and compare. The canonical request is
 * aws4's; two client quirks in the wild are accepted as well, since both are signatures by
 * the same secret over the very bytes we received:
 *  - SigV4 encodes the path twice for every service but S3 (aws4 does so); some clients
 *    encode it once (curl before 8.x, for a path holding an escape such as %20);
 *  - curl before 8.1 signs the query string as sent instead of sorted and re-encoded.
 */
export function signatureMatches(request: SignedRequest, auth: ParsedAuthorization, secret: string): boolean {
  const headers: Record<string, string> = {};
  for (const name of auth.signedHeaders) {
    const value = request.headers[name];
    headers[name] = Array.isArray(value) ? value.join(',') : (value ?? '');
  }
  // A signed x-amz-content-sha256 replaces the body hash in the canonical request: it must be the real one.
  const declared = headers['x-amz-content-sha256'];
  if (declared !== undefined && declared !== payloadHash(request.body)) return false;

  const query = request.url.includes('?') ? request.url.slice(request.url.indexOf('?') + 1) : null;
  const pathForms = request.url.includes('%') ? [false, true] : [false];
  const queryForms = query ? [false, true] : [false];
  let matched = false;
  for (const doNotEncodePath of pathForms) {
    for (const rawQuery of queryForms) {
      const expected = compute(request, auth, headers, secret, doNotEncodePath, rawQuery ? query : null);
      matched = equalHex(expected, auth.signature) || matched;
    }
  }
  return matched;
}

function compute(
  request: SignedRequest,
  auth: ParsedAuthorization,
  headers: Record<string, string>,
  secret: string,
  doNotEncodePath: boolean,
  rawQuery: string | null,
): string {
  const include = Object.fromEntries(auth.signedHeaders.map((h) => [h, true]));
  const signer = new aws4.RequestSigner(
    {
      method: request.method,
      path: request.url,
      headers,
      body: request.body,
      service: auth.service,
      region: auth.region,
      doNotModifyHeaders: true,
      doNotEncodePath,
      // aws4 leaves out a few headers (user-agent, range…) when signing; the client may have signed them.
      extraHeadersToInclude: include,
    } as aws4.Request,
    { accessKeyId: auth.accessKeyId, secretAccessKey: secret },
  );
  signer.datetime = headers['x-amz-date'];
  if (rawQuery !== null) {
    // Line 3 of the canonical request is the query (header values cannot hold a newline).
    const canonical = signer.canonicalString.bind(signer);
    signer.canonicalString = () => {
      const lines = canonical().split('\n');
      lines[2] = rawQuery;
      return lines.join('\n');
    };
  }
  return signer.signature();
}

function equalHex(a: string, b: string): boolean {
  const x = Buffer.from(a, 'utf8');
  const y = Buffer.from(b, 'utf8');
  return x.length === y.length && timingSafeEqual(x, y);
}
