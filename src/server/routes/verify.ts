/**
 * POST /v1/verify, for services checking credentials presented to them.
 *
 * No SigV4 here, by design: the presented secret is itself the proof, and the answer (tenant,
 * owner, permissions) goes only to someone who already holds that secret. Requiring a signed
 * request would force every verifying service to hold an akm key of its own, one more secret
 * to distribute and rotate, without making the answer any safer. Guessing is defeated by the
 * 261-bit secrets and bounded by the per-client rate limit.
 *
 * Unknown, inactive, expired and wrong-secret all get the very same 401 body (a constant
 * string), after the same work (see verifyCache.ts). Any internal fault answers
 * "not valid" too: a 503 whose body also says valid:false, never anything that reads as valid.
 */
import type { IncomingMessage } from 'node:http';
import { parseKeyString } from '../../core/keyString.js';
import { parseForwardedSource, userAgentOf } from '../../core/source.js';
import type { LocalBackend } from '../../service/local/backend.js';
import type { VerifyInput, VerifyResult } from '../../service/types.js';
import { Fields } from '../fields.js';
import { HttpError, parseJson, readBody } from '../http.js';
import { verifyCached, type VerifyCache } from '../verifyCache.js';

export const VERIFY_BODY_LIMIT = 4096;

/** Serialised once: every "not valid" answer is byte-for-byte the same. */
export const INVALID_BODY = JSON.stringify({
  valid: false,
  error: { code: 'invalid_credentials', message: 'the credentials are not valid', exitCode: 5 },
});
export const UNAVAILABLE_BODY = JSON.stringify({
  valid: false,
  error: {
    code: 'verify_unavailable',
    message: 'verification failed inside the server; treat the credentials as not valid',
    exitCode: 6,
  },
});

export type VerifyOutcome =
  { status: 200; result: Extract<VerifyResult, { valid: true }> } | { status: number; body: string };

/** `source` (optional, refused with 400 when malformed): who the verifying service's own caller is. */
export function verifyInput(value: unknown): VerifyInput {
  const f = Fields.of(value);
  const keyString = f.optionalString('keyString');
  const source = f.raw('source') === undefined ? undefined : parseForwardedSource(f.raw('source'));
  let input: VerifyInput;
  if (keyString !== undefined) {
    const parts = parseKeyString(keyString);
    input = {
      accessKeyId: parts.accessKeyId,
      secretKey: parts.encrypted ? '' : parts.secret,
      tenantId: parts.tenantId,
    };
  } else {
    input = { accessKeyId: f.string('accessKeyId'), secretKey: f.string('secretKey') };
    const tenantId = f.optionalString('tenantId');
    if (tenantId !== undefined) input.tenantId = tenantId;
  }
  f.done();
  if (source !== undefined) input.source = source;
  return input;
}

/** Never throws: every path ends in an answer, and only a real match ends in "valid". */
export async function handleVerify(
  backend: Pick<LocalBackend, 'base'>,
  cache: VerifyCache,
  req: IncomingMessage,
  clientAddress: string,
): Promise<VerifyOutcome> {
  let input: VerifyInput;
  try {
    input = verifyInput(parseJson(await readBody(req, VERIFY_BODY_LIMIT), req.headers['content-type']));
  } catch (error) {
    const message = error instanceof Error ? error.message : 'bad request';
    const code = (error as { code?: string }).code ?? 'invalid_body';
    const status = error instanceof HttpError ? error.status : 400;
    return { status, body: JSON.stringify({ valid: false, error: { code, message, exitCode: 2 } }) };
  }
  try {
    const origin = { clientAddress, userAgent: userAgentOf(req.headers['user-agent']), path: 'verify' as const };
    const result = await verifyCached(backend, cache, input, origin);
    return result.valid === true ? { status: 200, result } : { status: 401, body: INVALID_BODY };
  } catch {
    return { status: 503, body: UNAVAILABLE_BODY };
  }
}
