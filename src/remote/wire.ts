/**
 * The wire protocol shared by `akm serve` and the remote client: header names, the error
 * envelope and the JSON forms of values that JSON cannot carry as they are (a Date inside an
 * expiry choice). Both sides import this file, so they cannot drift apart.
 */
import { UsageError } from '../core/errors.js';
import type { ExpiryChoice } from '../core/expiry.js';
import { DEFAULT_QUIET_MS, type GraceChoice } from '../core/grace.js';
import type { BulkAction } from '../service/governanceTypes.js';

/** SigV4 service name in the credential scope: `curl --aws-sigv4 "aws:amz:<region>:akm"`. */
export const SIGV4_SERVICE = 'akm';
/** A fresh random value on each request from the akm client, signed, refused when seen twice. */
export const NONCE_HEADER = 'x-akm-nonce';
/** Optional: the tenant the caller expects to act in; a key of another tenant is refused. */
export const TENANT_HEADER = 'x-akm-tenant';

export interface WireError {
  code: string;
  message: string;
  hint?: string;
  /** the CLI exit code this error maps to, so the remote client rebuilds the very same error */
  exitCode: number;
}

export interface WireErrorBody {
  error: WireError;
}

export type WireExpiry = { kind: 'days'; days: number } | { kind: 'until'; at: string } | { kind: 'never' };

export function expiryToWire(choice: ExpiryChoice): WireExpiry {
  return choice.kind === 'until' ? { kind: 'until', at: choice.at.toISOString() } : choice;
}

/** Validates as it converts: this runs on the server, over bytes from the network. */
export function expiryFromWire(value: unknown): ExpiryChoice {
  const v = value as Partial<{ kind: unknown; days: unknown; at: unknown }> | null;
  if (v && typeof v === 'object') {
    if (v.kind === 'never') return { kind: 'never' };
    if (v.kind === 'days' && typeof v.days === 'number' && Number.isInteger(v.days))
      return { kind: 'days', days: v.days };
    if (v.kind === 'until' && typeof v.at === 'string') {
      const at = new Date(v.at);
      if (!Number.isNaN(at.getTime())) return { kind: 'until', at };
    }
  }
  throw new UsageError(
    'invalid expiry: expected {"kind":"days","days":N}, {"kind":"until","at":ISO} or {"kind":"never"}',
    { code: 'invalid_body' },
  );
}

/** A rotation's grace on the wire: `{"graceMs":N}` (fixed; 0 or absent: none) or `{"grace":"auto","quietForMs"?:N}`. */
export type WireGrace = { graceMs?: number } | { grace: 'auto'; quietForMs?: number };

export function graceToWire(grace: number | GraceChoice): WireGrace {
  if (typeof grace === 'number') return { graceMs: grace };
  if (grace.kind === 'auto') return { grace: 'auto', quietForMs: grace.quietForMs };
  return { graceMs: grace.kind === 'fixed' ? grace.ms : 0 };
}

/** Shapes only; the service checks the bounds, as it does for the CLI. */
export function graceFromWire(body: { graceMs?: unknown; grace?: unknown; quietForMs?: unknown }): GraceChoice {
  const invalid = (message: string) => new UsageError(message, { code: 'invalid_body' });
  if (body.grace !== undefined) {
    if (body.grace !== 'auto') throw invalid('"grace" must be "auto" (a fixed grace is "graceMs")');
    if (body.graceMs !== undefined) throw invalid('"graceMs" and "grace" exclude each other');
    if (body.quietForMs !== undefined && typeof body.quietForMs !== 'number')
      throw invalid('"quietForMs" must be a number of milliseconds');
    return { kind: 'auto', quietForMs: body.quietForMs ?? DEFAULT_QUIET_MS };
  }
  if (body.quietForMs !== undefined) throw invalid('"quietForMs" goes with "grace":"auto"');
  if (body.graceMs === undefined || body.graceMs === 0) return { kind: 'none' };
  if (typeof body.graceMs !== 'number') throw invalid('"graceMs" must be a number of milliseconds');
  return { kind: 'fixed', ms: body.graceMs };
}

/** One path segment: a key name may hold spaces or slashes, an email an "@". */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

export type WireBulkAction = Exclude<BulkAction, { kind: 'extend' }> | { kind: 'extend'; expiry: WireExpiry };

export function bulkActionToWire(action: BulkAction): WireBulkAction {
  return action.kind === 'extend' ? { kind: 'extend', expiry: expiryToWire(action.expiry) } : action;
}

export function bulkActionFromWire(value: unknown): BulkAction {
  const v = value as Partial<{ kind: unknown; expiry: unknown; forMs: unknown }> | null;
  if (v && typeof v === 'object') {
    const allowed: Record<string, string | undefined> = { extend: 'expiry', deactivate: 'forMs' };
    const extra = Object.keys(v).filter((k) => k !== 'kind' && allowed[String(v.kind)] !== k);
    if (extra.length === 0) {
      if (v.kind === 'activate' || v.kind === 'delete') return { kind: v.kind };
      // The brownout's bounds are the service's to check; only the shape is checked here.
      if (v.kind === 'deactivate' && v.forMs === undefined) return { kind: 'deactivate' };
      if (v.kind === 'deactivate' && Number.isSafeInteger(v.forMs))
        return { kind: 'deactivate', forMs: v.forMs as number };
      if (v.kind === 'extend') return { kind: 'extend', expiry: expiryFromWire(v.expiry) };
    }
  }
  throw new UsageError(
    'invalid action: expected {"kind":"activate"|"deactivate"|"delete"}, {"kind":"deactivate","forMs":…} ' +
      'or {"kind":"extend","expiry":…}',
    { code: 'invalid_body' },
  );
}
