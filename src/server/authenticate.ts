/**
 * Who signed this request? SigV4 needs the plaintext secret to derive the signing key, so the
 * sealed secret is opened (AES-GCM: a tampered one fails cleanly, never yields a wrong
 * secret). Unknown key, wrong signature, inactive, expired or altered key (its integrity MAC
 * does not hold: store/integrity.ts) all get one answer, and an unknown key still costs a
 * signature computation, so neither body nor timing tells which.
 */
import { inBrownout } from '../core/brownout.js';
import { isAccessKeyId } from '../core/credentials.js';
import { DeniedError, type ErrorCode } from '../core/errors.js';
import { isExpired } from '../core/expiry.js';
import { previousAccepted } from '../core/grace.js';
import { requestSource, userAgentOf, type UseSource } from '../core/source.js';
import type { Use } from '../core/usage.js';
import type { DerivedKeys } from '../crypto/keys.js';
import { openSecret } from '../crypto/seal.js';
import type { Actor } from '../service/local/actor.js';
import type { KeyRow, LocalBackend, TenantRow } from '../service/local/backend.js';
import type { CanaryTrip } from '../service/local/context.js';
import { graceOf } from '../service/local/keyState.js';
import { generationOf, usable } from '../service/local/verify.js';
import { NONCE_HEADER, TENANT_HEADER } from '../remote/wire.js';
import type { ReplayGuard } from './replay.js';
import {
  checkRequestTime,
  parseAuthorization,
  signatureMatches,
  SignatureFormatError,
  type ParsedAuthorization,
  type SignedRequest,
} from './sigv4.js';

/** Failed authentication: exit 5 on the CLI, 401 on the wire. */
export class AuthenticationError extends DeniedError {
  constructor(
    code: ErrorCode,
    message: string,
    readonly reason: string,
    readonly accessKeyId: string | null,
    readonly tenantId: string | null,
    hint?: string,
  ) {
    super(message, { hint, code });
  }
}

export const AUTHENTICATION_CODES = new Set([
  'auth_required',
  'auth_malformed',
  'clock_skew',
  'auth_failed',
  'replayed_request',
]);

const NOT_VALID_MESSAGE = 'the request signature does not match, or the access key is unknown, inactive or expired';
const NOT_VALID_HINT = 'check the credentials (akm whoami) and that the key is active and unexpired';
// Any well-formed secret will do: it only makes an unknown key cost the same work as a known one.
const DUMMY_SECRET = 'akms_unknownkeyunknownkeyunknownkeyunknownkey000000';
const MAX_NONCE_LENGTH = 128;

export interface AuthDeps {
  /** its store armed with the integrity key: the server loads the keys when it starts */
  backend: Pick<LocalBackend, 'signingKey' | 'actingAs'>;
  keys: DerivedKeys;
  now: () => Date;
  replay: ReplayGuard;
  /** a sign-in is a use of the secret that signed it (or, in a brownout, a refusal) */
  recordUse: (use: Use) => void;
  /** a signature by a canary key raises its alarm */
  onCanary: (trip: CanaryTrip) => void;
}

export interface Authenticated {
  key: KeyRow;
  tenant: TenantRow;
  actor: Actor;
}

export async function authenticate(
  deps: AuthDeps,
  request: SignedRequest,
  mutating: boolean,
  clientAddress: string,
): Promise<Authenticated> {
  const now = deps.now();
  let auth: ParsedAuthorization;
  let signedAt: Date;
  try {
    auth = parseAuthorization(first(request.headers.authorization));
    signedAt = checkRequestTime(first(request.headers['x-amz-date']), auth.date, now);
  } catch (error) {
    if (!(error instanceof SignatureFormatError)) throw error;
    const claimed = claimedKeyId(first(request.headers.authorization));
    throw new AuthenticationError(error.code, error.message, error.code, claimed, null);
  }

  // null: the key's row was altered at rest (store/integrity.ts).
  const read = isAccessKeyId(auth.accessKeyId) ? await deps.backend.signingKey(auth.accessKeyId) : undefined;
  const row = read ?? undefined;
  const fail = (reason: string) =>
    new AuthenticationError(
      'auth_failed',
      NOT_VALID_MESSAGE,
      reason,
      isAccessKeyId(auth.accessKeyId) ? auth.accessKeyId : null,
      row?.tenant_id ?? null,
      NOT_VALID_HINT,
    );

  let matched: 'current' | 'previous' | null = null;
  let tampered = false;
  for (const [version, secret] of candidateSecrets(deps, row, now)) {
    if (secret === null) tampered = true;
    else if (signatureMatches(request, auth, secret)) matched ??= version;
  }
  if (read === null) throw fail('tampered_record');
  if (!row) throw fail('unknown_key');
  const source = (): UseSource => requestSource(clientAddress, userAgentOf(request.headers['user-agent']));
  if (row.canary === 1) {
    const trip = { accessKeyId: row.id, tenantId: row.tenant_id, at: now.toISOString(), path: 'signin' as const };
    deps.onCanary({ ...trip, source: source(), secretMatched: matched !== null });
    throw fail('canary_key');
  }
  if (tampered && !matched) throw fail('tampered_secret');
  if (!matched) throw fail('bad_signature');
  const use = (kind: Use['kind']): Use => {
    const generation = generationOf(row, matched);
    return { accessKeyId: row.id, generation, kind, at: now.toISOString(), source: source() };
  };
  const candidate: KeyRow | undefined = row;
  if (!usable(candidate, undefined, now)) {
    const browned = inBrownout(row.status, row.inactive_until, now) && !isExpired(row.expires_at, now);
    if (browned) deps.recordUse(use('refused'));
    throw fail(row.status === 'inactive' ? 'inactive_key' : 'expired_key');
  }

  const expectedTenant = first(request.headers[TENANT_HEADER]);
  if (expectedTenant && expectedTenant !== row.tenant_id) {
    throw new DeniedError(`permission denied: ${row.id} belongs to another tenant than ${expectedTenant}`, {
      hint: 'log in with a key of that tenant',
      code: 'tenant_mismatch',
    });
  }
  const { tenant, actor } = await deps.backend.actingAs(row);
  if (!tenant) throw fail('unknown_tenant');
  if (actor === null) throw fail('tampered_record');
  await checkReplay(deps, request, auth, row.tenant_id, signedAt, now, mutating);
  deps.recordUse(use('use'));
  return { key: row, tenant, actor };
}

/** The current secret, and the previous one during a rotation's grace period; null for one that fails to open. */
function candidateSecrets(
  deps: AuthDeps,
  row: KeyRow | undefined,
  now: Date,
): Array<['current' | 'previous', string | null]> {
  if (!row) return [['current', DUMMY_SECRET]];
  const keys = deps.keys;
  const open = (sealed: Buffer) => {
    try {
      return openSecret(keys, row.tenant_id, row.id, sealed);
    } catch {
      return null;
    }
  };
  const secrets: Array<['current' | 'previous', string | null]> = [['current', open(row.secret_sealed)]];
  if (row.previous_sealed && previousAccepted(graceOf(row), now)) secrets.push(['previous', open(row.previous_sealed)]);
  return secrets;
}

/** Every mutating request, and every request with a signed nonce, is seen once only (replay.ts). */
async function checkReplay(
  deps: AuthDeps,
  request: SignedRequest,
  auth: ParsedAuthorization,
  tenantId: string,
  signedAt: Date,
  now: Date,
  mutating: boolean,
): Promise<void> {
  const nonce = first(request.headers[NONCE_HEADER]);
  const signedNonce = nonce && auth.signedHeaders.includes(NONCE_HEADER) ? nonce.slice(0, MAX_NONCE_LENGTH) : null;
  if (!mutating && !signedNonce) return;
  const token = signedNonce ? `${auth.accessKeyId}\0n\0${signedNonce}` : `${auth.accessKeyId}\0s\0${auth.signature}`;
  if ((await deps.replay.check(token, signedAt, now)) === 'replayed') {
    throw new AuthenticationError(
      'replayed_request',
      'this signed request was already received once; it is refused as a replay',
      'replayed',
      auth.accessKeyId,
      tenantId,
      'sign each request afresh (a new x-akm-nonce)',
    );
  }
}

function first(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}

/** The access key id a request claims, read without checking anything else. */
export function claimedKeyId(header: string | undefined): string | null {
  const id = /Credential=([^/\s,]+)\//.exec(header ?? '')?.[1];
  return id && isAccessKeyId(id) ? id : null;
}
