/**
 * The remote implementation of AkmService: each method is one signed HTTP call to `akm serve`,
 * which runs the local implementation as the signing key. Results and errors are the same
 * plain data and typed errors, so commands cannot tell which implementation they hold.
 */
import type { ExpiryChoice } from '../core/expiry.js';
import type { PermissionSource } from '../core/permissions.js';
import type {
  AkmService,
  AssignChanges,
  BulkRequest,
  BulkResult,
  KeyEdit,
  LifetimePolicy,
  PolicyChanges,
  PolicyPreview,
  ReportQuery,
  ReportRow,
  Warned,
  AuditHead,
  AuditQuery,
  AuditRecord,
  AuditVerification,
  AuditVerifyOptions,
  AddWebhookInput,
  DeliveryReport,
  GraceChoice,
  NewWebhook,
  StatusOptions,
  Webhook,
  WebhookTestResult,
  NotificationList,
  NotificationQuery,
  NotifyExpiringOptions,
  NotifyExpiringResult,
  CreateKeyInput,
  Group,
  Identity,
  IssuedKey,
  KeyDetails,
  KeyFilter,
  KeyView,
  MasterKeyExport,
  MasterKeyRotation,
  Page,
  Role,
  User,
  VerifyExplanation,
  VerifyInput,
  VerifyResult,
} from '../service/types.js';
import { UsageError } from '../core/errors.js';
import { formatSort } from '../core/keyFields.js';
import { keyReference } from '../core/validate.js';
import { SignedClient, type ClientOptions } from './client.js';
import { bulkActionToWire, expiryToWire, graceToWire, segment } from './wire.js';

/** A key's path. A <key> shaped like a secret is refused here, before any request (keyReference). */
const key = (ref: string) => `/v1/keys/${segment(keyReference(ref))}`;
const group = (name: string) => `/v1/groups/${segment(name)}`;

/** The master key never travels: it is handled where the store is. */
const masterKeyHere = () =>
  new UsageError('the master key is handled on a local store only, never through a server', {
    hint:
      'run it where the store is: on the server, or with --store pointing at its SQLite file or ' +
      'PostgreSQL database',
  });

export class RemoteService implements AkmService {
  readonly client: SignedClient;

  constructor(options: ClientOptions) {
    this.client = new SignedClient(options);
  }

  async whoami(): Promise<Identity> {
    const identity = await this.client.call<Identity>('GET', '/v1/whoami');
    return { ...identity, store: this.client.baseUrl, mode: 'remote' };
  }

  createKey(input: CreateKeyInput): Promise<IssuedKey> {
    return this.client.call('POST', '/v1/keys', { body: { ...input, expiry: expiryToWire(input.expiry) } });
  }
  listKeys(filter: KeyFilter, page: { after?: string; limit?: number } = {}): Promise<Page<KeyView>> {
    const { sort, ...rest } = filter;
    return this.client.call('GET', '/v1/keys', {
      query: { ...rest, ...(sort ? { sort: formatSort(sort) } : {}), ...page },
    });
  }
  showKey(ref: string): Promise<KeyDetails> {
    return this.client.call('GET', key(ref));
  }
  extendKey(ref: string, expiry: ExpiryChoice): Promise<KeyView & Warned> {
    return this.client.call('POST', `${key(ref)}/extend`, { body: { expiry: expiryToWire(expiry) } });
  }
  editKey(ref: string, edit: KeyEdit): Promise<KeyView> {
    return this.client.call('POST', `${key(ref)}/edit`, { body: edit });
  }
  bulkKeys(request: BulkRequest): Promise<BulkResult> {
    return this.client.call('POST', '/v1/keys/bulk', {
      body: { action: bulkActionToWire(request.action), keys: request.keys, dryRun: request.dryRun },
    });
  }
  assignKey(ref: string, changes: AssignChanges): Promise<KeyView> {
    return this.client.call('POST', `${key(ref)}/assign`, { body: changes });
  }
  rotateKey(ref: string, grace: number | GraceChoice): Promise<IssuedKey> {
    return this.client.call('POST', `${key(ref)}/rotate`, { body: graceToWire(grace) });
  }
  finishGrace(ref: string): Promise<KeyView> {
    return this.client.call('POST', `${key(ref)}/finish-grace`, { body: {} });
  }
  copyKey(ref: string): Promise<{ accessKeyId: string; tenantId: string; keyString: string }> {
    return this.client.call('GET', `${key(ref)}/copy`);
  }
  setKeyStatus(ref: string, status: 'active' | 'inactive', options: StatusOptions = {}): Promise<KeyView & Warned> {
    return this.client.call('POST', `${key(ref)}/status`, { body: { status, ...options } });
  }
  deleteKey(ref: string): Promise<KeyView> {
    return this.client.call('DELETE', key(ref));
  }
  keyPermissions(ref: string): Promise<{ accessKeyId: string; permissions: PermissionSource[] }> {
    return this.client.call('GET', `${key(ref)}/permissions`);
  }

  /** "Not valid" is an answer, not an error, exactly as in the local service. */
  async verifyKey(input: VerifyInput): Promise<VerifyResult> {
    const response = await this.client.send('POST', '/v1/verify', { body: input, unsigned: true });
    if (response.status === 200) return response.json as VerifyResult;
    if (response.status === 401) return { valid: false };
    throw this.client.errorFrom(response);
  }

  async exportMasterKey(): Promise<MasterKeyExport> {
    throw masterKeyHere();
  }
  async rotateMasterKey(): Promise<MasterKeyRotation> {
    throw masterKeyHere();
  }

  /** A server answers every failed verification alike, on purpose: the reasons stay on the server. */
  async explainVerification(): Promise<VerifyExplanation> {
    throw new UsageError('--explain works on a local store only', {
      hint: 'a server answers every failed verification the same way; run it where the store is',
    });
  }

  addUser(email: string, name: string): Promise<User> {
    return this.client.call('POST', '/v1/users', { body: { email, name } });
  }
  listUsers(): Promise<User[]> {
    return this.client.call('GET', '/v1/users');
  }
  removeUser(email: string): Promise<User> {
    return this.client.call('DELETE', `/v1/users/${segment(email)}`);
  }

  createGroup(name: string): Promise<Group> {
    return this.client.call('POST', '/v1/groups', { body: { name } });
  }
  listGroups(): Promise<Group[]> {
    return this.client.call('GET', '/v1/groups');
  }
  deleteGroup(name: string): Promise<Group> {
    return this.client.call('DELETE', group(name));
  }
  addGroupMember(name: string, email: string): Promise<Group> {
    return this.client.call('POST', `${group(name)}/members`, { body: { email } });
  }
  removeGroupMember(name: string, email: string): Promise<Group> {
    return this.client.call('DELETE', `${group(name)}/members/${segment(email)}`);
  }
  addGroupRole(name: string, role: string): Promise<Group> {
    return this.client.call('POST', `${group(name)}/roles`, { body: { role } });
  }
  removeGroupRole(name: string, role: string): Promise<Group> {
    return this.client.call('DELETE', `${group(name)}/roles/${segment(role)}`);
  }

  createRole(name: string, permissions: string[]): Promise<Role> {
    return this.client.call('POST', '/v1/roles', { body: { name, permissions } });
  }
  listRoles(): Promise<Role[]> {
    return this.client.call('GET', '/v1/roles');
  }
  deleteRole(name: string): Promise<Role> {
    return this.client.call('DELETE', `/v1/roles/${segment(name)}`);
  }

  /** Reading is a GET; reading and marking read changes state, so it is a POST. */
  listNotifications(query: NotificationQuery = {}): Promise<NotificationList> {
    const { markRead, ...rest } = query;
    if (markRead) return this.client.call('POST', '/v1/notifications/read', { body: rest });
    return this.client.call('GET', '/v1/notifications', { query: rest });
  }
  /** The server sends the mail; no progress reports come back over HTTP. */
  notifyExpiring(options: NotifyExpiringOptions): Promise<NotifyExpiringResult> {
    return this.client.call('POST', '/v1/notifications/expiring', {
      body: { withinDays: options.withinDays, dryRun: options.dryRun === true },
    });
  }
  listAudit(query: AuditQuery = {}): Promise<Page<AuditRecord>> {
    // Refused here, before the request: a secret must not travel in a URL or reach the server's log.
    if (query.key !== undefined) keyReference(query.key);
    return this.client.call('GET', '/v1/audit', { query: { ...query } });
  }
  verifyAudit(options: AuditVerifyOptions = {}): Promise<AuditVerification> {
    return this.client.call('GET', '/v1/audit/verify', { query: { ...options } });
  }
  auditHead(): Promise<AuditHead> {
    return this.client.call('GET', '/v1/audit/head');
  }

  getPolicy(): Promise<LifetimePolicy> {
    return this.client.call('GET', '/v1/policy');
  }
  setPolicy(changes: PolicyChanges, options: { dryRun: boolean }): Promise<PolicyPreview> {
    return this.client.call('POST', '/v1/policy', { body: { ...changes, dryRun: options.dryRun } });
  }
  applyPolicy(options: { dryRun: boolean }): Promise<BulkResult> {
    return this.client.call('POST', '/v1/policy/apply', { body: { cap: true, dryRun: options.dryRun } });
  }
  reportKeys(query: ReportQuery, page: { after?: string; limit?: number } = {}): Promise<Page<ReportRow>> {
    return this.client.call('GET', '/v1/report', { query: { ...query, ...page } });
  }
  addWebhook(input: AddWebhookInput): Promise<NewWebhook> {
    return this.client.call('POST', '/v1/webhooks', { body: input });
  }
  listWebhooks(): Promise<Webhook[]> {
    return this.client.call('GET', '/v1/webhooks');
  }
  removeWebhook(id: string): Promise<Webhook> {
    return this.client.call('DELETE', `/v1/webhooks/${segment(id)}`);
  }
  testWebhook(id: string): Promise<WebhookTestResult> {
    return this.client.call('POST', `/v1/webhooks/${segment(id)}/test`, { body: {} });
  }
  /** The server delivers by itself, continuously. */
  async deliver(): Promise<DeliveryReport> {
    throw new UsageError('akm deliver is for a local store: akm serve delivers webhooks and mail by itself', {
      hint: 'run it where the store file is, e.g. from cron',
    });
  }

  async close(): Promise<void> {
    // Nothing held open: fetch pools its connections and lets them go on exit.
  }
}
