/**
 * The one application API. Two implementations (local SQLite, remote HTTP) and two front ends
 * (CLI, HTTP server); a command never knows which implementation it holds. Every value that
 * crosses this boundary is plain JSON data with ISO-8601 UTC timestamps and null for "never".
 */
import type { ExpiryChoice } from '../core/expiry.js';
import type { PermissionSource } from '../core/permissions.js';
import type { AuditHead, AuditQuery, AuditRecord, AuditVerification, AuditVerifyOptions } from './auditTypes.js';
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

export type * from './auditTypes.js';
export type * from './masterKeyTypes.js';
export type * from './notificationTypes.js';

export type KeyType = 'access' | 'api';
export type KeyStatus = 'active' | 'inactive' | 'expired';

export interface KeyView {
  accessKeyId: string;
  name: string;
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
}

/** Returned once, by create and rotate: the only time the secret leaves akm. */
export interface IssuedKey extends KeyView {
  secretKey: string;
  keyString: string;
  /** after a rotation with grace: when the previous secret stops working */
  previousSecretValidUntil?: string | null;
}

export interface KeyDetails extends KeyView {
  permissions: string[];
  previousSecretValidUntil: string | null;
}

export interface CreateKeyInput {
  name: string;
  type: KeyType;
  expiry: ExpiryChoice;
  /** owner email; null for a tenant-level key; absent: the acting user, when not an administrator */
  owner?: string | null;
  groups: string[];
  roles: string[];
}

export interface KeyFilter {
  status?: KeyStatus;
  type?: KeyType;
  owner?: string;
  /** only keys that expire within this many days (and have not expired yet) */
  expiringWithinDays?: number;
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
    kind: 'unknown' | 'other_tenant' | 'wrong_secret' | 'old_secret' | 'inactive' | 'expired';
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
  extendKey(ref: string, expiry: ExpiryChoice): Promise<KeyView>;
  assignKey(ref: string, changes: AssignChanges): Promise<KeyView>;
  rotateKey(ref: string, graceMs: number): Promise<IssuedKey>;
  copyKey(ref: string): Promise<{ accessKeyId: string; tenantId: string; keyString: string }>;
  setKeyStatus(ref: string, status: 'active' | 'inactive'): Promise<KeyView>;
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

  /** write the store's master key to a new file (0600); administrators, on a local store only */
  exportMasterKey(input: MasterKeyExportInput): Promise<MasterKeyExport>;
  /**
   * a new master key for the whole store: every secret re-sealed, every MAC re-keyed, in one
   * transaction; administrators, on a local store only
   */
  rotateMasterKey(input: MasterKeyRotationInput): Promise<MasterKeyRotation>;

  close(): Promise<void>;
}
