/**
 * What the credential report says about a key, pure: its findings and its report row. The same
 * definitions serve `akm report`, `akm list --finding` and `--unused-for`.
 */
import { expiryViolation, secretTooOld, type LifetimePolicy } from './policy.js';

const DAY_MS = 86_400_000;

/** In the order the report lists them. */
export const FINDINGS = [
  'unused',
  'never_expires',
  'expires_soon',
  'secret_too_old',
  'policy_violation',
  'no_permissions',
  'inactive',
] as const;
export type Finding = (typeof FINDINGS)[number];

export const DEFAULT_UNUSED_DAYS = 90;
export const EXPIRES_SOON_DAYS = 7;

export interface FindingFacts {
  status: 'active' | 'inactive' | 'expired';
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  secretCreatedAt: string;
  /** does the key hold any permission at all (through a role, directly or through a group)? */
  anyPermission: boolean;
}

export interface FindingContext {
  policy: LifetimePolicy;
  now: Date;
  unusedForDays: number;
}

/** Not used for `days` days; a key never used counts from its creation. */
export function isUnused(key: Pick<FindingFacts, 'createdAt' | 'lastUsedAt'>, now: Date, days: number): boolean {
  return Date.parse(key.lastUsedAt ?? key.createdAt) <= now.getTime() - days * DAY_MS;
}

function expiresSoon(key: FindingFacts, now: Date): boolean {
  if (key.expiresAt === null) return false;
  const left = Date.parse(key.expiresAt) - now.getTime();
  return left > 0 && left <= EXPIRES_SOON_DAYS * DAY_MS;
}

export function keyFindings(key: FindingFacts, context: FindingContext): Finding[] {
  const { policy, now } = context;
  const found: Record<Finding, boolean> = {
    unused: isUnused(key, now, context.unusedForDays),
    never_expires: key.expiresAt === null,
    expires_soon: expiresSoon(key, now),
    secret_too_old: secretTooOld(policy, key, now),
    policy_violation: expiryViolation(policy, key.expiresAt === null ? null : new Date(key.expiresAt), now) !== null,
    no_permissions: !key.anyPermission,
    // deactivated or expired: either way it authenticates nothing
    inactive: key.status !== 'active',
  };
  return FINDINGS.filter((finding) => found[finding]);
}

/** One row of the credential report; its fields, in this order, are the CSV columns too. */
export interface ReportRow {
  accessKeyId: string;
  name: string;
  description: string;
  owner: string | null;
  type: string;
  status: 'active' | 'inactive' | 'expired';
  createdAt: string;
  ageDays: number;
  expiresAt: string | null;
  /** whole days until expiry, negative once expired; null for never */
  daysLeft: number | null;
  lastUsedAt: string | null;
  /** where the last use came from, when the store knows */
  lastUsedFrom: string | null;
  secretCreatedAt: string;
  secretAgeDays: number;
  findings: Finding[];
}

export const REPORT_COLUMNS = [
  'accessKeyId',
  'name',
  'description',
  'owner',
  'type',
  'status',
  'createdAt',
  'ageDays',
  'expiresAt',
  'daysLeft',
  'lastUsedAt',
  'lastUsedFrom',
  'secretCreatedAt',
  'secretAgeDays',
  'findings',
] as const satisfies ReadonlyArray<keyof ReportRow>;

export interface ReportInput extends FindingFacts {
  accessKeyId: string;
  name: string;
  description: string;
  owner: string | null;
  type: string;
  lastUsedFrom: string | null;
}

function wholeDays(ms: number): number {
  return Math.floor(ms / DAY_MS);
}

export function reportRow(key: ReportInput, context: FindingContext): ReportRow {
  const now = context.now.getTime();
  return {
    accessKeyId: key.accessKeyId,
    name: key.name,
    description: key.description,
    owner: key.owner,
    type: key.type,
    status: key.status,
    createdAt: key.createdAt,
    ageDays: wholeDays(now - Date.parse(key.createdAt)),
    expiresAt: key.expiresAt,
    daysLeft: key.expiresAt === null ? null : wholeDays(Date.parse(key.expiresAt) - now),
    lastUsedAt: key.lastUsedAt,
    lastUsedFrom: key.lastUsedFrom,
    secretCreatedAt: key.secretCreatedAt,
    secretAgeDays: wholeDays(now - Date.parse(key.secretCreatedAt)),
    findings: keyFindings(key, context),
  };
}
