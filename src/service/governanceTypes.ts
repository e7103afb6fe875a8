/**
 * Governance at tenant scale as the service hands it out: the lifetime policy and its
 * violations, the credential report, edits, and changes to many keys at once.
 */
import type { ExpiryChoice } from '../core/expiry.js';
import type { LifetimePolicy, ViolationReason } from '../core/policy.js';

export type { LifetimePolicy, NeverExpiresRule, PolicyChanges, ViolationReason } from '../core/policy.js';
export type { Finding, ReportRow } from '../core/findings.js';
export type { ReportSummary, WeekCount } from '../core/reportSummary.js';
export type { KeySort, SortField } from '../core/keyFields.js';

/** A key that breaks the policy, once per reason. */
export interface PolicyViolation {
  accessKeyId: string;
  name: string;
  owner: string | null;
  expiresAt: string | null;
  reason: ViolationReason;
}

/** What `policy set` (and its dry run) answers: the policy as set, and the keys that break it. */
export interface PolicyPreview {
  policy: LifetimePolicy;
  violations: PolicyViolation[];
}

export interface ReportQuery {
  /** a key not used for this many days (or never used and older) is `unused`; default 90 */
  unusedForDays?: number;
}

export type BulkAction =
  | { kind: 'activate' }
  /** forMs: a brownout of each key (as `setKeyStatus`'s) */
  | { kind: 'deactivate'; forMs?: number }
  | { kind: 'delete' }
  | { kind: 'extend'; expiry: ExpiryChoice };

export interface BulkRequest {
  action: BulkAction;
  /** access key ids or unique names, at most 10,000 */
  keys: string[];
  /** check everything and say what would change, changing nothing */
  dryRun: boolean;
}

export interface KeyState {
  status: 'active' | 'inactive' | 'expired';
  expiresAt: string | null;
}

export interface KeyChange {
  accessKeyId: string;
  name: string;
  owner: string | null;
  from: KeyState;
  /** null: deleted */
  to: KeyState | null;
  /** false when the key already was as asked (e.g. deactivating an inactive key) */
  changed: boolean;
}

/** The outcome of a bulk command or of `policy apply --cap`: every key, checked, then all changed or none. */
export interface BulkResult {
  action: BulkAction['kind'] | 'cap';
  dryRun: boolean;
  keys: KeyChange[];
  /** the policy's warnings before its enforcement date (extend beyond it) */
  warnings: string[];
}

/** `akm edit`: what is absent stays; an empty description clears it. */
export interface KeyEdit {
  name?: string;
  description?: string;
}

/** Returned by create and extend: the policy's warnings before its enforcement date, if any. */
export interface Warned {
  warnings?: string[];
}
