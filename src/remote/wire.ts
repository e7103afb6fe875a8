/**
 * The wire protocol shared by `akm serve` and the remote client: header names, the error
 * envelope and the JSON forms of values that JSON cannot carry as they are (a Date inside an
 * expiry choice). Both sides import this file, so they cannot drift apart.
 */
import { UsageError } from '../core/errors.js';
import type { ExpiryChoice } from '../core/expiry.js';
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

/** One path segment: a key name may hold spaces or slashes, an email an "@". */
export function segment(value: string): string {
  return encodeURIComponent(value);
}

export type WireBulkAction = Exclude<BulkAction, { kind: 'extend' }> | { kind: 'extend'; expiry: WireExpiry };

export function bulkActionToWire(action: BulkAction): WireBulkAction {
  return action.kind === 'extend' ? { kind: 'extend', expiry: expiryToWire(action.expiry) } : action;
}

export function bulkActionFromWire(value: unknown): BulkAction {
  const v = value as Partial<{ kind: unknown; expiry: unknown }> | null;
  if (v && typeof v === 'object') {
    const extra = Object.keys(v).filter((k) => k !== 'kind' && !(v.kind === 'extend' && k === 'expiry'));
    if (extra.length === 0) {
      if (v.kind === 'activate' || v.kind === 'deactivate' || v.kind === 'delete') return { kind: v.kind };
      if (v.kind === 'extend') return { kind: 'extend', expiry: expiryFromWire(v.expiry) };
    }
  }
  throw new UsageError(
    'invalid action: expected {"kind":"activate"|"deactivate"|"delete"} or {"kind":"extend","expiry":…}',
    { code: 'invalid_body' },
  );
}
