/**
 * `akm init`: a tenant with its built-in groups and roles and its first administrator. The
 * first init of a store also fixes the store id and the check value of its master key.
 */
import { randomUUID } from 'node:crypto';
import { ConflictError } from '../../core/errors.js';
import { BUILTIN_GROUP, BUILTIN_ROLES } from '../../core/permissions.js';
import { assertCheckValue, checkValue, deriveKeys, type DerivedKeys } from '../../crypto/keys.js';
import { appendAudit } from '../../store/audit.js';
import { upgradeAuditChains } from '../../store/auditUpgrade.js';
import { attachIntegrity } from '../../store/integrity.js';
import { getMeta, setMeta } from '../../store/meta.js';
import type { Db } from '../../store/open.js';
import { addGroupMember, addGroupRole, findRole, insertGroup, insertRole, insertUser } from '../../store/people.js';
import { writeTransaction } from '../../store/statements.js';
import { getTenant, insertTenant } from '../../store/tenants.js';

export const META_STORE_ID = 'store_id';
export const META_MASTER_CHECK = 'master_key_check';

/** The store id names the keychain entry of the master key; made once, before the key exists. */
export function ensureStoreId(db: Db): string {
  return writeTransaction(db, () => {
    const existing = getMeta(db, META_STORE_ID);
    if (existing) return existing;
    const id = randomUUID();
    setMeta(db, META_STORE_ID, id);
    return id;
  });
}

export function checkMasterKey(db: Db, storeId: string, master: Buffer): DerivedKeys {
  const keys = deriveKeys(master);
  const stored = getMeta(db, META_MASTER_CHECK);
  if (stored) assertCheckValue(keys, storeId, stored);
  return keys;
}

/**
 * The connection now holds the keys: finish what migrations could not do without them, then
 * arm its integrity checks. The audit trail is verified (and re-chained per tenant) first: a
 * store whose trail does not verify is refused before any of its rows is sealed on trust.
 */
export function useKeys(db: Db, keys: DerivedKeys): void {
  upgradeAuditChains(db, keys.audit);
  attachIntegrity(db, keys.integrity);
}

export interface InitInput {
  tenantId: string;
  tenantName: string;
  adminEmail: string;
  adminName: string;
  now: Date;
  source: string;
}

export function initTenant(db: Db, storeId: string, keys: DerivedKeys, input: InitInput): void {
  useKeys(db, keys);
  writeTransaction(db, () => {
    if (!getMeta(db, META_MASTER_CHECK)) setMeta(db, META_MASTER_CHECK, checkValue(keys, storeId));
    if (getTenant(db, input.tenantId)) {
      throw new ConflictError(`tenant ${input.tenantId} is already set up in this store`, {
        hint: 'use it as it is, or pick another --tenant',
        code: 'already_initialised',
      });
    }
    const at = input.now.toISOString();
    insertTenant(db, { id: input.tenantId, name: input.tenantName, operator: input.adminEmail, created_at: at });
    for (const [role, permissions] of Object.entries(BUILTIN_ROLES))
      insertRole(db, input.tenantId, role, true, permissions, at);
    const adminGroup = insertGroup(db, input.tenantId, BUILTIN_GROUP, true, at);
    addGroupRole(db, adminGroup, findRole(db, input.tenantId, 'Administrator')!.id);
    const admin = insertUser(db, input.tenantId, input.adminEmail, input.adminName, at);
    addGroupMember(db, adminGroup, admin);
    appendAudit(db, keys.audit, {
      tenantId: input.tenantId,
      at,
      actor: input.adminEmail,
      action: 'tenant.init',
      target: input.tenantId,
      details: { name: input.tenantName, admin: input.adminEmail },
      source: input.source,
    });
  });
}
