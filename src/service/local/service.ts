/**
 * The local implementation of AkmService: the store (SQLite or PostgreSQL), sealed secrets and
 * the audit trail in-process.
 */
import { hostname, userInfo } from 'node:os';
import { NotFoundError, UnavailableError } from '../../core/errors.js';
import type { ExpiryChoice } from '../../core/expiry.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import { loadMasterKey, type MasterKeyOptions } from '../../crypto/masterKey.js';
import { sealPendingHead } from '../../store/audit.js';
import { setLastUsed } from '../../store/keys.js';
import { openStore } from '../../store/open.js';
import { firstTenant, getTenant, type TenantRow } from '../../store/tenants.js';
import type { Queryable, Store } from '../../store/types.js';
import { mailSettingsFromEnv, type MailSettings } from '../../notify/smtp.js';
import type {
  AkmService,
  AssignChanges,
  AuditQuery,
  AuditVerifyOptions,
  CreateKeyInput,
  Identity,
  KeyFilter,
  NotificationQuery,
  NotifyExpiringOptions,
  ProgressListener,
  VerifyInput,
} from '../types.js';
import { operatorActor, type Actor } from './actor.js';
import { storeKeys } from './bootstrap.js';
import type { LocalContext } from './context.js';
import * as keys from './keys.js';
import * as people from './people.js';
import { verifyKey } from './verify.js';
import * as audit from './audit.js';
import * as notifications from './notifications.js';

export interface LocalOptions {
  /** a SQLite file path or a postgres:// URL */
  store: string;
  tenantId?: string;
  masterKey: MasterKeyOptions;
  now?: () => Date;
  source?: string;
  /** supplies PGPASSWORD, PGPASSFILE and HOME for a PostgreSQL store */
  env?: NodeJS.ProcessEnv;
}

export function cliSource(): string {
  let user = 'unknown';
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (containers): keep "unknown"
  }
  return `cli:${user}@${hostname()}`;
}

/** Derive the keys on first use (once), checking them against the store's check value. */
export function lazyKeys(store: Store, masterKey: MasterKeyOptions): () => Promise<DerivedKeys> {
  let loading: Promise<DerivedKeys> | undefined;
  const load = async () => {
    const derived = await storeKeys(store, (storeId) => loadMasterKey(masterKey, storeId));
    await sealPendingHead(store, derived.audit);
    return derived;
  };
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

  /** The CLI's way in: open the store and act as the operator named at init. */
  static async open(options: LocalOptions): Promise<LocalService> {
    const store = await openStore(options.store, { env: options.env });
    try {
      const { tenant, actor } = await store.read(async (q) => {
        const tenant = await resolveTenant(q, options.tenantId);
        return { tenant, actor: await operatorActor(q, tenant) };
      });
      const ctx: LocalContext = {
        store,
        tenant,
        actor,
        now: options.now ?? (() => new Date()),
        loadKeys: lazyKeys(store, options.masterKey),
        source: options.source ?? cliSource(),
        recordUse: (id, at) => store.write(null, (q) => setLastUsed(q, id, at)),
      };
      return new LocalService(ctx, true);
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
    return keys.createKey(this.ctx, input);
  }
  async listKeys(filter: KeyFilter, page?: { after?: string; limit?: number }) {
    return keys.listKeys(this.ctx, filter, page);
  }
  async showKey(ref: string) {
    return keys.showKey(this.ctx, ref);
  }
  async extendKey(ref: string, expiry: ExpiryChoice) {
    return keys.extendKey(this.ctx, ref, expiry);
  }
  async assignKey(ref: string, changes: AssignChanges) {
    return keys.assignKey(this.ctx, ref, changes);
  }
  async rotateKey(ref: string, graceMs: number) {
    return keys.rotateKey(this.ctx, ref, graceMs);
  }
  async copyKey(ref: string) {
    return keys.copyKey(this.ctx, ref);
  }
  async setKeyStatus(ref: string, status: 'active' | 'inactive') {
    return keys.setKeyStatus(this.ctx, ref, status);
  }
  async deleteKey(ref: string) {
    return keys.deleteKey(this.ctx, ref);
  }
  async keyPermissions(ref: string) {
    return keys.keyPermissions(this.ctx, ref);
  }
  async verifyKey(input: VerifyInput) {
    return verifyKey(this.ctx, input);
  }

  async addUser(email: string, name: string) {
    return people.addUser(this.ctx, email, name);
  }
  async listUsers() {
    return people.listUsers(this.ctx);
  }
  async removeUser(email: string) {
    return people.removeUser(this.ctx, email);
  }
  async createGroup(name: string) {
    return people.createGroup(this.ctx, name);
  }
  async listGroups() {
    return people.listGroups(this.ctx);
  }
  async deleteGroup(name: string) {
    return people.deleteGroup(this.ctx, name);
  }
  async addGroupMember(group: string, email: string) {
    return people.addGroupMember(this.ctx, group, email);
  }
  async removeGroupMember(group: string, email: string) {
    return people.removeGroupMember(this.ctx, group, email);
  }
  async addGroupRole(group: string, role: string) {
    return people.addGroupRole(this.ctx, group, role);
  }
  async removeGroupRole(group: string, role: string) {
    return people.removeGroupRole(this.ctx, group, role);
  }
  async createRole(name: string, permissions: string[]) {
    return people.createRole(this.ctx, name, permissions);
  }
  async listRoles() {
    return people.listRoles(this.ctx);
  }
  async deleteRole(name: string) {
    return people.deleteRole(this.ctx, name);
  }

  async listNotifications(query?: NotificationQuery) {
    return notifications.listNotifications(this.ctx, query);
  }
  async notifyExpiring(options: NotifyExpiringOptions, onProgress?: ProgressListener) {
    // Loaded when used: the mail job (date-fns, nodemailer) stays out of every other command's start-up.
    const { notifyExpiring } = await import('./expiryMail.js');
    return notifyExpiring(this.ctx, options, this.mail, onProgress);
  }
  async listAudit(query?: AuditQuery) {
    return audit.listAudit(this.ctx, query);
  }
  async verifyAudit(options?: AuditVerifyOptions) {
    return audit.verifyAudit(this.ctx, options);
  }

  async close(): Promise<void> {
    if (this.ownsStore) await this.ctx.store.close();
  }
}
