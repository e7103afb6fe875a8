/**
 * Where a use of a key came from: the client address the server saw, its user agent, and what a
 * verifying service passes on about its own caller in `/v1/verify`
 * (`{"source":{"service":"billing","address":"10.0.0.5"}}`). Everything here ends up on an
 * administrator's terminal and in the audit trail, so it is bounded and plain text.
 */
import { UsageError } from './errors.js';
import { hasInvisible, replaceInvisible } from './validate.js';

export const MAX_SERVICE_LENGTH = 64;
export const MAX_USER_AGENT_LENGTH = 200;

/** What a verifying service may say about its own caller. */
export interface ForwardedSource {
  service?: string;
  address?: string;
}

/** One source of uses. `via`: the client address the server saw, when `address` was passed on by it. */
export interface UseSource {
  service: string | null;
  address: string | null;
  userAgent: string | null;
  via: string | null;
}

/** "billing (10.0.0.5)", "10.0.0.5", or the user agent when that is all there is; null when nothing is known. */
export function sourceLabel(source: UseSource): string | null {
  if (source.service !== null)
    return source.address === null ? source.service : `${source.service} (${source.address})`;
  return source.address ?? source.userAgent;
}

function refuse(message: string): UsageError {
  return new UsageError(message, {
    hint: 'source is {"service": a name of at most 64 characters, "address": an IPv4 or IPv6 address}; both optional',
    code: 'invalid_body',
  });
}

const IPV4 = /^(?:(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)\.){3}(?:25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)$/;

/** Dotted-quad IPv4, each part 0-255 without leading zeros (which some parsers read as octal). */
export function isIPv4(text: string): boolean {
  return IPV4.test(text);
}

/**
 * An IPv4 or IPv6 literal, in one spelling per address (IPv6 compressed and lower-case), so the
 * same caller is one source however it was written. Zone ids (fe80::1%eth0) mean nothing here.
 * IPv6 is parsed by the URL parser, after a character check that keeps anything but an address
 * (a "]", a "/") from reaching it.
 */
export function canonicalAddress(text: string): string | null {
  if (isIPv4(text)) return text;
  if (!/^[0-9A-Fa-f:.]{2,45}$/.test(text)) return null;
  try {
    return new URL(`http://[${text}]/`).hostname.slice(1, -1);
  } catch {
    return null;
  }
}

/**
 * The `source` of a /v1/verify body. A malformed one is the verifying service's bug, not a
 * question about the credentials: the request is refused (400) before anything is checked, so a
 * bad source can never make a valid key look invalid, or the reverse.
 */
export function parseForwardedSource(value: unknown): ForwardedSource {
  if (!value || typeof value !== 'object' || Array.isArray(value)) throw refuse('"source" must be a JSON object');
  const { service, address, ...rest } = value as Record<string, unknown>;
  const extra = Object.keys(rest);
  if (extra.length > 0) throw refuse(`"source" has an unknown field: ${JSON.stringify(extra[0]!.slice(0, 40))}`);
  const source: ForwardedSource = {};
  if (service !== undefined) {
    if (typeof service !== 'string' || service.length === 0 || service.length > MAX_SERVICE_LENGTH)
      throw refuse(`"source.service" must be a string of 1 to ${MAX_SERVICE_LENGTH} characters`);
    if (hasInvisible(service, { spaces: true }))
      throw refuse('"source.service" must not contain control or invisible characters');
    source.service = service;
  }
  if (address !== undefined) {
    const canonical = typeof address === 'string' && address.length <= 64 ? canonicalAddress(address) : null;
    if (canonical === null) throw refuse('"source.address" must be an IPv4 or IPv6 address');
    source.address = canonical;
  }
  return source;
}

/** A User-Agent header as stored: invisible characters replaced, at most 200 characters; none: null. */
export function userAgentOf(header: string | string[] | undefined): string | null {
  const text = Array.isArray(header) ? header[0] : header;
  const value = text === undefined ? '' : replaceInvisible(text, () => '\ufffd', { spaces: true }).trim();
  if (!value) return null;
  return value.length > MAX_USER_AGENT_LENGTH ? value.slice(0, MAX_USER_AGENT_LENGTH) : value;
}

/** The source of one request: the forwarded caller when the verifying service named one, else the client itself. */
export function requestSource(
  clientAddress: string | null,
  userAgent: string | null,
  forwarded?: ForwardedSource,
): UseSource {
  const passedOn = forwarded?.address !== undefined;
  return {
    service: forwarded?.service ?? null,
    address: passedOn ? forwarded.address! : clientAddress,
    userAgent,
    via: passedOn ? clientAddress : null,
  };
}

/** Sources are the same source when every field is. */
export function sourceKey(source: UseSource): string {
  return JSON.stringify([source.service, source.address, source.userAgent, source.via]);
}
