/**
 * `akm init`: a tenant with its built-in groups and roles and its first administrator. The
 * first init of a store also fixes the store id and the check value of its master key.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError, UnavailableError } from '../../core/errors.js';
import { BUILTIN_GROUP, BUILTIN_ROLES } from '../../core/permissions.js';
import { assertCheckValue, checkValue, deriveKeys, type DerivedKeys } from '../../crypto/keys.js';
import { provisionMasterKey, type MasterKeyOptions, type MasterKeySourceName } from '../../crypto/masterKey.js';
import { appendAudit } from '../../store/audit.js';
import { upgradeAuditChains } from '../../store/auditUpgrade.js';
import { getMeta, settleMeta } from '../../store/meta.js';
import { openStore } from '../../store/open.js';
import { addGroupMember, addGroupRole, findRole, insertGroup, insertRole, insertUser } from '../../store/people.js';
import { firstTenant, getTenant, insertTenant, listTenants } from '../../store/tenants.js';
import type { Store } from '../../store/types.js';

export const META_STORE_ID = 'store_id';
export const META_MASTER_CHECK = 'master_key_check';

/** The store id names the keychain entry of the master key; made once, before the key exists. */
export function ensureStoreId(store: Store): Promise<string> {
  return store.write(
    null,
    async (tx) => (await getMeta(tx, META_STORE_ID)) ?? settleMeta(tx, META_STORE_ID, randomUUID()),
  );
}

/** The keys of this master key, refused (wrong_master_key) when the store's check value names another. */
export function checkMasterKey(storeId: string, storedCheck: string | undefined, master: Buffer): DerivedKeys {
  const keys = deriveKeys(master);
  if (storedCheck) assertCheckValue(keys, storeId, storedCheck);
  return keys;
}

/**
 * The connection now holds the keys: finish what migrations could not do without them, then
 * arm its integrity checks. The audit trail is verified (and re-chained per tenant) first: a
 * store whose trail does not verify is refused before any of its rows is sealed on trust.
 */
export async function useKeys(store: Store, keys: DerivedKeys): Promise<void> {
  await upgradeAuditChains(store, keys.audit);
  await store.attachIntegrity(keys.integrity);
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
  await useKeys(store, keys);
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
  /** the store's first tenant: what a later command acts in when it names none */
  firstTenant: string | undefined;
}

/** `akm init`: create the store if needed (file, or schema in an empty database), its master key, and the tenant. */
export async function initStore(options: InitStoreOptions): Promise<InitStoreResult> {
  const store = await openStore(options.store, { create: true, env: options.env, onLockWait: options.onLockWait });
  try {
    const storeId = await ensureStoreId(store);
    const { key, source } = provisionMasterKey(options.masterKey, storeId);
    const check = await store.read((q) => getMeta(q, META_MASTER_CHECK));
    const keys = checkMasterKey(storeId, check, key);
    await initTenant(store, storeId, keys, options);
    return { masterKey: source, firstTenant: (await store.read((q) => firstTenant(q)))?.id };
  } finally {
    await store.close();
  }
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
export async function storeKeys(store: Store, master: (storeId: string) => Buffer): Promise<DerivedKeys> {
  const { storeId, check } = await store.read(async (q) => ({
    storeId: await getMeta(q, META_STORE_ID),
    check: await getMeta(q, META_MASTER_CHECK),
  }));
  if (!storeId)
    throw new UnavailableError('this store has not been initialised', {
      hint: 'run `akm init`',
      code: 'store_uninitialised',
    });
  // init writes the check value with the tenant; without it any key would pass unchecked and
  // new secrets would be sealed under a key nobody has.
  if (!check) {
    throw new UnavailableError('this store has no check value for its master key', {
      hint: 'the store was modified outside akm; restore it from a backup',
      code: 'master_key_check_missing',
    });
  }
  const keys = checkMasterKey(storeId, check, master(storeId));
  await useKeys(store, keys);
  return keys;
}
