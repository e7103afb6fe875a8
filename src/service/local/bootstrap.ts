/**
 * `akm init`: a tenant with its built-in groups and roles and its first administrator. The
 * first init of a store also fixes the store id and the check value of its master key.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../core/errors.js';
import { BUILTIN_GROUP, BUILTIN_ROLES } from '../../core/permissions.js';
import { assertCheckValue, checkValue, deriveKeys, type DerivedKeys } from '../../crypto/keys.js';
import { META_STORE_ID, storeMasterKey } from './storeMasterKey.js';
import { provisionMasterKey, type MasterKeyOptions, type MasterKeySourceName } from '../../crypto/masterKey.js';
import { appendAudit } from '../../store/audit.js';
import { upgradeAuditChains } from '../../store/auditUpgrade.js';
import { META_MASTER_CHECK } from '../../store/keyFence.js';
import { getMeta, settleMeta } from '../../store/meta.js';
import { openStore } from '../../store/open.js';
import { addGroupMember, addGroupRole, findRole, insertGroup, insertRole, insertUser } from '../../store/people.js';
import { firstTenant, getTenant, insertTenant, listTenants } from '../../store/tenants.js';
import type { Store } from '../../store/types.js';

/** The store id names the keychain entry of the master key; made once, before the key exists. */
export function ensureStoreId(store: Store): Promise<string> {
  return store.write(
    null,
    async (tx) => (await getMeta(tx, META_STORE_ID)) ?? settleMeta(tx, META_STORE_ID, randomUUID()),
  );
}

/**
 * The connection now holds the keys (whose check value is `check`): finish what migrations could
 * not do without them, then arm its integrity checks. The audit trail is verified (and re-chained
 * per tenant) first: a store whose trail does not verify is refused before any of its rows is
 * sealed on trust.
 */
export async function useKeys(store: Store, keys: DerivedKeys, check: string): Promise<void> {
  await upgradeAuditChains(store, keys.audit);
  await store.attachIntegrity(keys.integrity, check);
}

export interface InitInput {
  tenantId: string;
  tenantName: string;
  adminEmail: string;
  adminName: string;
  now: Date;
  source: string;
}

function alreadySetUp(tenantId: string): ConflictError {
  return new ConflictError(`tenant ${tenantId} is already set up in this store`, {
    hint: 'use it as it is, or pick another --tenant',
    code: 'already_initialised',
  });
}

export async function initTenant(store: Store, storeId: string, keys: DerivedKeys, input: InitInput): Promise<void> {
  await useKeys(store, keys, checkValue(keys, storeId));
  try {
    await store.write(
      input.tenantId,
      async (tx) => {
        // The first init fixes the check value; a racing init with another master key fails here.
        assertCheckValue(keys, storeId, await settleMeta(tx, META_MASTER_CHECK, checkValue(keys, storeId)));
        if (await getTenant(tx, input.tenantId)) throw alreadySetUp(input.tenantId);
        const at = input.now.toISOString();
        await insertTenant(tx, {
          id: input.tenantId,
          name: input.tenantName,
          operator: input.adminEmail,
          created_at: at,
        });
        for (const [role, permissions] of Object.entries(BUILTIN_ROLES))
          await insertRole(tx, input.tenantId, role, true, permissions, at);
        const adminGroup = await insertGroup(tx, input.tenantId, BUILTIN_GROUP, true, at);
        await addGroupRole(tx, adminGroup, (await findRole(tx, input.tenantId, 'Administrator'))!.id);
        const admin = await insertUser(tx, input.tenantId, input.adminEmail, input.adminName, at);
        await addGroupMember(tx, adminGroup, admin);
        await appendAudit(tx, keys.audit, {
          tenantId: input.tenantId,
          at,
          actor: input.adminEmail,
          action: 'tenant.init',
          target: input.tenantId,
          details: { name: input.tenantName, admin: input.adminEmail },
          source: input.source,
        });
      },
      { now: input.now },
    );
  } catch (error) {
    // Two inits of one tenant at once (on PostgreSQL, where there is no row to lock yet): the
    // second one's insert meets the first one's tenant.
    if (store.dialect.isUniqueViolation(error)) throw alreadySetUp(input.tenantId);
    throw error;
  }
}

export interface InitStoreOptions extends InitInput {
  store: string;
  masterKey: MasterKeyOptions;
  env?: NodeJS.ProcessEnv;
  /** told when the init has waited a second for another process's lock */
  onLockWait?: () => void;
}

export interface InitStoreResult {
  masterKey: MasterKeySourceName;
  /** this init set up the store and its master key (the first init of the store) */
  newStore: boolean;
  /** the store's first tenant: what a later command acts in when it names none */
  firstTenant: string | undefined;
}

/** `akm init`: create the store if needed (file, or schema in an empty database), its master key, and the tenant. */
export async function initStore(options: InitStoreOptions): Promise<InitStoreResult> {
  const store = await openStore(options.store, { create: true, env: options.env, onLockWait: options.onLockWait });
  try {
    const storeId = await ensureStoreId(store);
    const newStore = (await store.read((q) => getMeta(q, META_MASTER_CHECK))) === undefined;
    // A store set up already is opened with its own key, as every command opens it; a new one gets its key now.
    const { keys, source } = newStore
      ? provisioned(options.masterKey, storeId)
      : await storeMasterKey(store, options.masterKey).then((found) => ({ ...found, source: found.place.source }));
    await initTenant(store, storeId, keys, options);
    return { masterKey: source, newStore, firstTenant: (await store.read((q) => firstTenant(q)))?.id };
  } finally {
    await store.close();
  }
}

function provisioned(options: MasterKeyOptions, storeId: string): { keys: DerivedKeys; source: MasterKeySourceName } {
  const { key, source } = provisionMasterKey(options, storeId);
  return { keys: deriveKeys(key), source };
}

/** The tenants a store holds already, none when there is no store yet: what the init wizard must not reuse. */
export async function existingTenants(location: string, env: NodeJS.ProcessEnv): Promise<string[]> {
  let store: Store;
  try {
    store = await openStore(location, { readonly: true, env });
  } catch (error) {
    if ((error as { code?: unknown }).code === 'store_missing') return [];
    throw error;
  }
  try {
    return (await store.read((q) => listTenants(q))).map((t) => t.id);
  } finally {
    await store.close();
  }
}

/** Derive the keys, check them against the store's check value, then arm the store with them (useKeys). */
export async function storeKeys(store: Store, masterKey: MasterKeyOptions): Promise<DerivedKeys> {
  const { keys, check } = await storeMasterKey(store, masterKey);
  await useKeys(store, keys, check);
  return keys;
}
