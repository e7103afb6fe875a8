/**
 * The local implementation of AkmService: the store (SQLite or PostgreSQL), sealed secrets and
 * the audit trail in-process.
 */
import { hostname, userInfo } from 'node:os';
import { NotFoundError, UnavailableError } from '../../core/errors.js';
import type { ExpiryChoice } from '../../core/expiry.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import type { MasterKeyOptions } from '../../crypto/masterKey.js';
import { MasterKeyReplacedError } from '../../store/keyFence.js';
import { openStore } from '../../store/open.js';
import { firstTenant, getTenant, type TenantRow } from '../../store/tenants.js';
import type { Queryable, Store } from '../../store/types.js';
import { mailSettingsFromEnv, type MailSettings } from '../../notify/smtp.js';
import type {
  AddWebhookInput,
  DeliveryReport,
  GraceChoice,
  KeyView,
  NewWebhook,
  StatusOptions,
  Webhook,
  WebhookTestResult,
  AkmService,
  AssignChanges,
  AuditQuery,
  AuditVerifyOptions,
  BulkRequest,
  CreateKeyInput,
  Identity,
  KeyEdit,
  KeyFilter,
  MasterKeyExportInput,
  MasterKeyRotationInput,
  NotificationQuery,
  NotifyExpiringOptions,
  PolicyChanges,
  ProgressListener,
  ReportQuery,
  VerifyInput,
} from '../types.js';
import type { Actor } from './actor.js';
import { AccessDenied, recordDenial } from './authorize.js';
import { storeKeys } from './bootstrap.js';
import { localActor } from './localActor.js';
import type { LocalContext } from './context.js';
import { createKey } from './createKey.js';
import * as keys from './keys.js';
import * as listing from './listing.js';
import * as policy from './policy.js';
import { bulkKeys } from './bulk.js';
import * as people from './people.js';
import { explainVerification, verifyKey } from './verify.js';
import * as audit from './audit.js';
import * as notifications from './notifications.js';
import * as masterKey from './masterKey.js';
import { countWaiting } from '../../store/webhooks.js';
import { deliverAlertMail } from './alertMail.js';
import { authorize } from './authorize.js';
import { recordCanaryTrips } from './canary.js';
import type { CanaryTrip } from './context.js';
import { deliverWebhooks } from './webhookDelivery.js';
import * as webhooks from './webhooks.js';

/**
 * `akm verify` of a canary key on a local store: the one time a local verify writes. It opens
 * the store for writing just for the alarm (the verification itself stayed read-only), and
 * sends the alarm's mail now when mail is set up; whatever fails here leaves the answer as it
 * is ("not valid"), and what is queued waits for `akm deliver`.
 */
async function recordLocalCanary(options: LocalOptions, trip: CanaryTrip): Promise<void> {
  let writer: LocalService | undefined;
  try {
    writer = await LocalService.open({ ...options, readOnly: false, warn: () => {} });
    await recordCanaryTrips(writer.ctx, [trip]);
    if (writer.mail) await deliverAlertMail(writer.ctx.store, trip.tenantId, writer.mail, writer.ctx.now);
  } catch {
    // A store that cannot be written (a read-only copy) or a mail server that is down: the
    // answer must not change, and must not tell the thief anything.
  } finally {
    await writer?.close();
  }
}

export interface LocalOptions {
  /** a SQLite file path or a postgres:// URL */
  store: string;
  tenantId?: string;
  masterKey: MasterKeyOptions;
  now?: () => Date;
  source?: string;
  /** where expiry mail goes; AKM_SMTP_URL / AKM_MAIL_FROM of this process when not given */
  mail?: MailSettings | null;
  /** told about a store file other users can open */
  warn?: (text: string) => void;
  /** only reading (list, show, verify…): the store is opened read-only and may be a read-only file */
  readOnly?: boolean;
  /** told when a write has waited a second for another process's lock */
  onLockWait?: () => void;
  /** an administrator of the tenant acting instead of the operator named at init (--as) */
  actAs?: string;
  /** supplies PGPASSWORD, PGPASSFILE and HOME for a PostgreSQL store */
  env?: NodeJS.ProcessEnv;
}

const TAMPERING = new Set(['tampered_record', 'tampered_secret', 'audit_tampered']);
const isTampering = (error: unknown) => TAMPERING.has(String((error as { code?: unknown } | null)?.code));

export function cliSource(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `cli:${user}@${hostname()}`;
}

/**
 * Derive the keys on first use (once), checking them against the store's check value; the store
 * is then armed with them (bootstrap.ts, useKeys).
 */
export function lazyKeys(store: Store, masterKey: MasterKeyOptions): () => Promise<DerivedKeys> {
  let loading: Promise<DerivedKeys> | undefined;
  const load = () => storeKeys(store, masterKey);
  return () =>
    (loading ??= load().catch((error: unknown) => {
      loading = undefined;
      throw error;
    }));
}

export async function resolveTenant(q: Queryable, tenantId: string | undefined): Promise<TenantRow> {
  const tenant = tenantId ? await getTenant(q, tenantId) : await firstTenant(q);
  if (!tenant) {
    if (tenantId)
      throw new NotFoundError(`no tenant ${tenantId} in this store`, {
        hint: `create it with: akm init --tenant ${tenantId}`,
        code: 'tenant_not_found',
      });
    throw new UnavailableError('this store has no tenant yet', { hint: 'run `akm init`', code: 'store_uninitialised' });
  }
  return tenant;
}

export class LocalService implements AkmService {
  constructor(
    readonly ctx: LocalContext,
    private readonly ownsStore: boolean,
    /** where expiry mail goes: AKM_SMTP_URL / AKM_MAIL_FROM unless given */
    readonly mail: MailSettings | null = mailSettingsFromEnv(process.env),
  ) {}

  /**
   * The CLI's way in: open the store and act as the operator named at init. A verification here
   * is an administrator's check, not a use of the key: it leaves lastUsedAt alone (the server's
   * /v1/verify and signed requests are the uses).
   */
  static async open(options: LocalOptions): Promise<LocalService> {
    const store = await openStore(options.store, {
      env: options.env,
      readonly: options.readOnly,
      onLockWait: options.onLockWait,
    });
    const exposure = store.exposure();
    if (exposure) options.warn?.(`${exposure.message}; fix: ${exposure.hint}`);
    try {
      const { tenant, actor } = await store.read(async (q) => {
        const tenant = await resolveTenant(q, options.tenantId);
        return { tenant, actor: await localActor(q, tenant, options.actAs) };
      });
      const ctx: LocalContext = {
        store,
        tenant,
        actor,
        now: options.now ?? (() => new Date()),
        masterKey: options.masterKey,
        loadKeys: lazyKeys(store, options.masterKey),
        source: options.source ?? cliSource(),
        // The CLI's own verify is a check, not a use: it records no use.
        recordUse: () => {},
        onCanary: (trip) => recordLocalCanary(options, trip),
      };
      return new LocalService(ctx, true, options.mail);
    } catch (error) {
      await store.close();
      throw error;
    }
  }

  /** The server's way in: a shared store, another tenant and actor per request. */
  static withActor(base: LocalContext, tenant: TenantRow, actor: Actor, source: string): LocalService {
    return new LocalService({ ...base, tenant, actor, source }, false);
  }

  /** Derive the keys now (normally done on first use), failing with exit 6 if the master key is wrong. */
  async checkMasterKey(): Promise<void> {
    await this.ctx.loadKeys();
  }

  async whoami(): Promise<Identity> {
    const { tenant, actor } = this.ctx;
    return {
      tenantId: tenant.id,
      tenantName: tenant.name,
      actor: actor.label,
      accessKeyId: actor.keyId,
      admin: actor.admin,
      permissions: actor.permissions,
      store: this.ctx.store.location,
      mode: 'local',
    };
  }

  async createKey(input: CreateKeyInput) {
    return this.guard(() => createKey(this.ctx, input));
  }
  async listKeys(filter: KeyFilter, page?: { after?: string; limit?: number }) {
    return this.guard(() => listing.listKeys(this.ctx, filter, page));
  }
  async showKey(ref: string) {
    return this.guard(() => keys.showKey(this.ctx, ref));
  }
  async extendKey(ref: string, expiry: ExpiryChoice) {
    return this.guard(() => keys.extendKey(this.ctx, ref, expiry));
  }
  async assignKey(ref: string, changes: AssignChanges) {
    return this.guard(() => keys.assignKey(this.ctx, ref, changes));
  }
  async rotateKey(ref: string, grace: number | GraceChoice) {
    return this.guard(() => keys.rotateKey(this.ctx, ref, grace));
  }
  async finishGrace(ref: string): Promise<KeyView> {
    return this.guard(() => keys.finishGrace(this.ctx, ref));
  }
  async copyKey(ref: string) {
    return this.guard(() => keys.copyKey(this.ctx, ref));
  }
  async setKeyStatus(ref: string, status: 'active' | 'inactive', options?: StatusOptions) {
    return this.guard(() => keys.setKeyStatus(this.ctx, ref, status, options));
  }
  async deleteKey(ref: string) {
    return this.guard(() => keys.deleteKey(this.ctx, ref));
  }
  async keyPermissions(ref: string) {
    return this.guard(() => keys.keyPermissions(this.ctx, ref));
  }
  async verifyKey(input: VerifyInput) {
    return verifyKey(this.ctx, input);
  }
  async explainVerification(input: VerifyInput) {
    return explainVerification(this.ctx, input);
  }

  async addUser(email: string, name: string) {
    return this.guard(() => people.addUser(this.ctx, email, name));
  }
  async listUsers() {
    return this.guard(() => people.listUsers(this.ctx));
  }
  async removeUser(email: string) {
    return this.guard(() => people.removeUser(this.ctx, email));
  }
  async createGroup(name: string) {
    return this.guard(() => people.createGroup(this.ctx, name));
  }
  async listGroups() {
    return this.guard(() => people.listGroups(this.ctx));
  }
  async deleteGroup(name: string) {
    return this.guard(() => people.deleteGroup(this.ctx, name));
  }
  async addGroupMember(group: string, email: string) {
    return this.guard(() => people.addGroupMember(this.ctx, group, email));
  }
  async removeGroupMember(group: string, email: string) {
    return this.guard(() => people.removeGroupMember(this.ctx, group, email));
  }
  async addGroupRole(group: string, role: string) {
    return this.guard(() => people.addGroupRole(this.ctx, group, role));
  }
  async removeGroupRole(group: string, role: string) {
    return this.guard(() => people.removeGroupRole(this.ctx, group, role));
  }
  async createRole(name: string, permissions: string[]) {
    return this.guard(() => people.createRole(this.ctx, name, permissions));
  }
  async listRoles() {
    return this.guard(() => people.listRoles(this.ctx));
  }
  async deleteRole(name: string) {
    return this.guard(() => people.deleteRole(this.ctx, name));
  }

  async listNotifications(query?: NotificationQuery) {
    return this.guard(() => notifications.listNotifications(this.ctx, query));
  }
  async notifyExpiring(options: NotifyExpiringOptions, onProgress?: ProgressListener) {
    // Loaded when used: the mail job (date-fns, nodemailer) stays out of every other command's start-up.
    const { notifyExpiring } = await import('./expiryMail.js');
    return this.guard(() => notifyExpiring(this.ctx, options, this.mail, onProgress));
  }
  async listAudit(query?: AuditQuery) {
    return this.guard(() => audit.listAudit(this.ctx, query));
  }
  async verifyAudit(options?: AuditVerifyOptions) {
    return this.guard(() => audit.verifyAudit(this.ctx, options));
  }
  async auditHead() {
    return this.guard(() => audit.auditHead(this.ctx));
  }

  async editKey(ref: string, edit: KeyEdit) {
    return this.guard(() => keys.editKey(this.ctx, ref, edit));
  }
  async bulkKeys(request: BulkRequest) {
    return this.guard(() => bulkKeys(this.ctx, request));
  }
  async getPolicy() {
    return this.guard(() => policy.getPolicy(this.ctx));
  }
  async setPolicy(changes: PolicyChanges, options: { dryRun: boolean }) {
    return this.guard(() => policy.setPolicy(this.ctx, changes, options));
  }
  async applyPolicy(options: { dryRun: boolean }) {
    return this.guard(() => policy.applyPolicy(this.ctx, options));
  }
  async reportKeys(query: ReportQuery, page?: { after?: string; limit?: number }) {
    return this.guard(() => listing.reportKeys(this.ctx, query, page));
  }
  async addWebhook(input: AddWebhookInput): Promise<NewWebhook> {
    return this.guard(() => webhooks.addWebhook(this.ctx, input));
  }
  async listWebhooks(): Promise<Webhook[]> {
    return this.guard(() => webhooks.listWebhooks(this.ctx));
  }
  async removeWebhook(id: string): Promise<Webhook> {
    return this.guard(() => webhooks.removeWebhook(this.ctx, id));
  }
  async testWebhook(id: string): Promise<WebhookTestResult> {
    return this.guard(() => webhooks.testWebhook(this.ctx, id));
  }
  /** What a local store has queued: its tenant's webhook events, and the canary alarm's mail when mail is set up. */
  async deliver(): Promise<DeliveryReport> {
    return this.guard(async () => {
      authorize(this.ctx, { operation: 'outbox.deliver' });
      const { store, tenant, now } = this.ctx;
      const counts = await deliverWebhooks({ store, keys: await this.ctx.loadKeys(), now }, tenant.id);
      const mail = this.mail ? await deliverAlertMail(store, tenant.id, this.mail, now) : { sent: 0, failed: 0 };
      const waiting = await store.read((q) => countWaiting(q, tenant.id));
      return { webhooks: { ...counts, waiting }, mail };
    });
  }

  async exportMasterKey(input: MasterKeyExportInput) {
    return this.guard(() => masterKey.exportMasterKey(this.ctx, input));
  }
  async rotateMasterKey(input: MasterKeyRotationInput) {
    const { rotation, keys } = await this.guard(() => masterKey.rotateMasterKey(this.ctx, input));
    // The store goes on with the new keys (Store.rotateKey); so does this service.
    if (keys) this.ctx.loadKeys = () => Promise.resolve(keys);
    return rotation;
  }

  /**
   * Every operation runs through here: a refusal is audited once its transaction has rolled back.
   * A row or secret that fails its check under keys another process has since replaced is not
   * tampering: this process holds an old master key, and says so.
   */
  private async guard<T>(work: () => T | Promise<T>): Promise<T> {
    try {
      return await work();
    } catch (error) {
      if (error instanceof AccessDenied) await recordDenial(this.ctx, error);
      if (isTampering(error) && (await this.ctx.store.keyReplaced())) throw new MasterKeyReplacedError();
      throw error;
    }
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.ctx.store.close();
  }
}
