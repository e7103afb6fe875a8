/**
 * The one application API. Two implementations (local SQLite, remote HTTP) and two front ends
 * (CLI, HTTP server); a command never knows which implementation it holds. Every value that
 * crosses this boundary is plain JSON data with ISO-8601 UTC timestamps and null for "never".
 */
import type { ExpiryChoice } from '../core/expiry.js';
import type { GraceChoice } from '../core/grace.js';
import type { PermissionSource } from '../core/permissions.js';
import type { Finding } from '../core/findings.js';
import type { KeySort } from '../core/keyFields.js';
import type { AuditHead, AuditQuery, AuditRecord, AuditVerification, AuditVerifyOptions } from './auditTypes.js';
import type {
  BulkRequest,
  BulkResult,
  KeyEdit,
  LifetimePolicy,
  PolicyChanges,
  PolicyPreview,
  ReportQuery,
  ReportRow,
  Warned,
} from './governanceTypes.js';
import type {
  MasterKeyExport,
  MasterKeyExportInput,
  MasterKeyRotation,
  MasterKeyRotationInput,
} from './masterKeyTypes.js';
import type {
  NotificationList,
  NotificationQuery,
  NotifyExpiringOptions,
  NotifyExpiringResult,
  ProgressListener,
} from './notificationTypes.js';
import type {
  AddWebhookInput,
  CanaryView,
  DeliveryReport,
  ForwardedSource,
  GraceView,
  NewWebhook,
  SecretUsage,
  SourceUse,
  Webhook,
  WebhookTestResult,
} from './usageTypes.js';

export type * from './auditTypes.js';
export type * from './masterKeyTypes.js';
export type * from './notificationTypes.js';
export type * from './governanceTypes.js';
export type * from './usageTypes.js';
export type { GraceChoice };

export type KeyType = 'access' | 'api';
export type KeyStatus = 'active' | 'inactive' | 'expired';

export interface KeyView {
  accessKeyId: string;
  name: string;
  /** free text for people; empty when none */
  description: string;
  type: KeyType;
  status: KeyStatus;
  tenantId: string;
  owner: string | null;
  groups: string[];
  roles: string[];
  createdAt: string;
  createdBy: string;
  modifiedAt: string;
  modifiedBy: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
  /** a canary key (administrators only ever see one): it never authenticates, and any attempt raises an alarm */
  canary: boolean;
  /** in a brownout: when the key comes back by itself */
  inactiveUntil: string | null;
  /** when the current secret was made: at creation, or at the last rotation */
  secretCreatedAt: string;
}

/** Returned once, by create and rotate: the only time the secret leaves akm. */
export interface IssuedKey extends KeyView, Warned {
  secretKey: string;
  keyString: string;
  /** after a rotation with grace: when the previous secret stops working (auto: unless it is used) */
  previousSecretValidUntil?: string | null;
  /** after a rotation: the previous secret's grace, if any */
  grace?: GraceView | null;
}

export interface KeyDetails extends KeyView {
  permissions: string[];
  previousSecretValidUntil: string | null;
  /** the current secret, and the previous one while its grace lasts */
  secrets: SecretUsage[];
  grace: GraceView | null;
  /** attempts refused during a brownout (with the right secret): what would break */
  brownoutAttempts: SourceUse[];
  /** canary keys only (null otherwise): the alarm and who tried */
  canaryAlarm: CanaryView | null;
}

export interface CreateKeyInput {
  name: string;
  description?: string;
  type: KeyType;
  expiry: ExpiryChoice;
  /** owner email; null for a tenant-level key; absent: the acting user, when not an administrator */
  owner?: string | null;
  groups: string[];
  roles: string[];
  /** a canary key: tenant-level, administrators only; it can never authenticate */
  canary?: boolean;
}

export interface KeyFilter {
  status?: KeyStatus;
  type?: KeyType;
  owner?: string;
  /** only keys that expire within this many days (and have not expired yet) */
  expiringWithinDays?: number;
  /** only keys not used for this many days (never used: counted from creation) */
  unusedForDays?: number;
  /** only keys whose name matches this glob (`*`, `?`, `[…]`), case-insensitively */
  name?: string;
  /** only keys that never expire */
  neverExpires?: boolean;
  /** only keys with this finding of the credential report (`unused` counts `unusedForDays`, default 90) */
  finding?: Finding;
  /** the order of the whole listing (default: creation, oldest first); the cursor follows it */
  sort?: KeySort;
}

export interface Page<T> {
  items: T[];
  /** opaque; absent on the last page */
  next?: string;
}

export interface AssignChanges {
  addGroups: string[];
  addRoles: string[];
  removeGroups: string[];
  removeRoles: string[];
}

export interface VerifyInput {
  accessKeyId: string;
  secretKey: string;
  tenantId?: string;
  /** what the verifying service says about its own caller, recorded with the use */
  source?: ForwardedSource;
}

/** `deactivate --for`: a brownout of this many milliseconds instead of until activated. */
export interface StatusOptions {
  forMs?: number;
}

export type VerifyResult =
  | {
      valid: true;
      accessKeyId: string;
      tenantId: string;
      owner: string | null;
      name: string;
      type: KeyType;
      permissions: string[];
      expiresAt: string | null;
    }
  | { valid: false };

/** Why a key string is or is not valid: for administrators checking a key on a local store. */
export interface VerifyExplanation {
  valid: boolean;
  accessKeyId: string;
  /** each problem found, e.g. "inactive: last changed by alice@acme.test" with its time in `at` */
  problems: Array<{
    kind: 'unknown' | 'other_tenant' | 'wrong_secret' | 'old_secret' | 'inactive' | 'expired' | 'canary';
    message: string;
    at?: string;
  }>;
}

export interface User {
  email: string;
  name: string;
  groups: string[];
  keyCount: number;
  createdAt: string;
}

export interface Group {
  name: string;
  builtin: boolean;
  members: string[];
  roles: string[];
  createdAt: string;
}

export interface Role {
  name: string;
  builtin: boolean;
  permissions: string[];
  createdAt: string;
}

export interface Identity {
  tenantId: string;
  tenantName: string;
  /** the acting user's email, or the key itself ("key:AKM…") for a tenant-level key */
  actor: string;
  accessKeyId: string | null;
  admin: boolean;
  permissions: string[];
  store: string;
  mode: 'local' | 'remote';
}

export interface AkmService {
  whoami(): Promise<Identity>;

  createKey(input: CreateKeyInput): Promise<IssuedKey>;
  listKeys(filter: KeyFilter, page?: { after?: string; limit?: number }): Promise<Page<KeyView>>;
  showKey(ref: string): Promise<KeyDetails>;
  extendKey(ref: string, expiry: ExpiryChoice): Promise<KeyView & Warned>;
  /** rename a key or change its description */
  editKey(ref: string, edit: KeyEdit): Promise<KeyView>;
  /** activate, deactivate, delete or extend many keys: every key checked first, then all changed at once, or none */
  bulkKeys(request: BulkRequest): Promise<BulkResult>;
  assignKey(ref: string, changes: AssignChanges): Promise<KeyView>;
  /** grace: a number of milliseconds (0: none), or a choice (`auto`: until the old secret goes quiet) */
  rotateKey(ref: string, grace: number | GraceChoice): Promise<IssuedKey>;
  /** end a rotation's grace now: the previous secret stops working */
  finishGrace(ref: string): Promise<KeyView>;
  copyKey(ref: string): Promise<{ accessKeyId: string; tenantId: string; keyString: string }>;
  /** `warnings`: a brownout shorter than the one running changed nothing */
  setKeyStatus(ref: string, status: 'active' | 'inactive', options?: StatusOptions): Promise<KeyView & Warned>;
  deleteKey(ref: string): Promise<KeyView>;
  keyPermissions(ref: string): Promise<{ accessKeyId: string; permissions: PermissionSource[] }>;
  verifyKey(input: VerifyInput): Promise<VerifyResult>;
  /** why verifyKey answers as it does; administrators on a local store only (a server's answer stays uniform) */
  explainVerification(input: VerifyInput): Promise<VerifyExplanation>;

  addUser(email: string, name: string): Promise<User>;
  listUsers(): Promise<User[]>;
  removeUser(email: string): Promise<User>;

  createGroup(name: string): Promise<Group>;
  listGroups(): Promise<Group[]>;
  deleteGroup(name: string): Promise<Group>;
  addGroupMember(group: string, email: string): Promise<Group>;
  removeGroupMember(group: string, email: string): Promise<Group>;
  addGroupRole(group: string, role: string): Promise<Group>;
  removeGroupRole(group: string, role: string): Promise<Group>;

  createRole(name: string, permissions: string[]): Promise<Role>;
  listRoles(): Promise<Role[]>;
  deleteRole(name: string): Promise<Role>;

  /** the bell inbox, newest first */
  listNotifications(query?: NotificationQuery): Promise<NotificationList>;
  /** e-mail about keys expiring soon: plan once per key and expiry date, then deliver the outbox */
  notifyExpiring(options: NotifyExpiringOptions, onProgress?: ProgressListener): Promise<NotifyExpiringResult>;
  /** newest first; needs audit:read */
  listAudit(query?: AuditQuery): Promise<Page<AuditRecord>>;
  /** check the MAC chain and say which record was edited, deleted, inserted or moved; needs audit:read */
  verifyAudit(options?: AuditVerifyOptions): Promise<AuditVerification>;
  auditHead(): Promise<AuditHead>;

  /** signed webhooks on key events; administrators only */
  addWebhook(input: AddWebhookInput): Promise<NewWebhook>;
  listWebhooks(): Promise<Webhook[]>;
  removeWebhook(id: string): Promise<Webhook>;
  testWebhook(id: string): Promise<WebhookTestResult>;
  /** send what is queued (webhooks, mail); for local stores, where no server does it */
  deliver(): Promise<DeliveryReport>;

  /** the tenant's lifetime policy; needs keys:read */
  getPolicy(): Promise<LifetimePolicy>;
  /** administrators: change the policy (or, with dryRun, only say which keys would break it) */
  setPolicy(changes: PolicyChanges, options: { dryRun: boolean }): Promise<PolicyPreview>;
  /** administrators: cap the expiry of every key that outlives the policy */
  applyPolicy(options: { dryRun: boolean }): Promise<BulkResult>;
  /** the credential report, a page at a time, of the keys in the actor's reach; needs keys:read */
  reportKeys(query: ReportQuery, page?: { after?: string; limit?: number }): Promise<Page<ReportRow>>;
  /** write the store's master key to a new file (0600); administrators, on a local store only */
  exportMasterKey(input: MasterKeyExportInput): Promise<MasterKeyExport>;
  /**
   * a new master key for the whole store: every secret re-sealed, every MAC re-keyed, in one
   * transaction; administrators, on a local store only
   */
  rotateMasterKey(input: MasterKeyRotationInput): Promise<MasterKeyRotation>;

  close(): Promise<void>;
}
