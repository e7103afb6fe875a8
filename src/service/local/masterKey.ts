/**
 * The master key's own operations, for administrators on a local store (a SQLite file, or a
 * PostgreSQL database this machine reaches): a backup copy in a file, and a new key.
 *
 * A rotation is one transaction of the store (Store.rotateKey), which every other keyed write
 * waits for:
 *  1. everything keyed by the master key (rekey.ts, KEYED) is checked under the old keys: if
 *     anything was altered, the rotation refuses and changes nothing;
 *  2. the new key is kept where it will live, *beside* the old one (the keychain entry
 *     `master-key-next:…`, the file `<file>.next`), or, for a key from AKM_MASTER_KEY, in the new
 *     file the administrator named (or printed): on disk before anything is written under it;
 *  3. every part is re-keyed, each tenant's chain gets a record naming its head before the
 *     rotation, and the check value changes;
 *  4. the transaction commits; only then does the new key take the old one's place.
 * Killed before the commit, the store is still under the old key, which is still where it was
 * (a new key left beside it was never used; the next rotation replaces it). Killed after, the
 * store is under the new key, which is beside the old one: the next run takes it from there and
 * finishes the move (storeMasterKey.ts). At no moment is the store under a key akm cannot find.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, rmSync } from 'node:fs';
import { resolve } from 'node:path';
import { UnavailableError, UsageError } from '../../core/errors.js';
import { fileExists, writeKeyFile } from '../../crypto/keyFile.js';
import { checkValue, deriveKeys, MASTER_KEY_BYTES, type DerivedKeys } from '../../crypto/keys.js';
import type { MasterKeyPlace } from '../../crypto/masterKey.js';
import { appendAudit, KEY_ROTATION_ACTION, readAuditHead } from '../../store/audit.js';
import { formatAnchor } from '../../store/auditVerify.js';
import { eraseEndedGraces } from '../../store/integrity.js';
import { setMeta } from '../../store/meta.js';
import { listTenants } from '../../store/tenants.js';
import type {
  MasterKeyExport,
  MasterKeyExportInput,
  MasterKeyRotation,
  MasterKeyRotationInput,
} from '../masterKeyTypes.js';
import { authorize } from './authorize.js';
import { recordChange } from './changes.js';
import { writing, type LocalContext } from './context.js';
import { KEYED } from './rekey.js';
import { META_KEY_ROTATED, storeMasterKey, type RotationNote } from './storeMasterKey.js';

export async function exportMasterKey(ctx: LocalContext, input: MasterKeyExportInput): Promise<MasterKeyExport> {
  authorize(ctx, { operation: 'master-key.export' });
  const file = resolve(input.file);
  const { master, place } = await storeMasterKey(ctx.store, ctx.masterKey);
  if (existsSync(file)) throw fileExists(file);
  const result = { dryRun: input.dryRun === true, file, source: place.source };
  if (input.dryRun) return result;
  let written = false;
  try {
    // Recorded in the transaction that writes the file: no copy of the key leaves unaudited.
    await writing(ctx, async (s) => {
      await recordChange(s, { action: 'master-key.export', target: null, details: { file, from: place.description } });
      writeKeyFile(file, master);
      written = true;
    });
  } catch (error) {
    if (written) rmSync(file, { force: true });
    throw error;
  }
  return result;
}

/** Where a rotation puts the new key: kept before the commit, settled in the old one's place after it. */
interface NewKeyDestination {
  description: string;
  /** where it is kept until it is settled */
  pending: string;
  keep(key: Buffer): void;
  settle(key: Buffer): void;
}

function destinationFor(place: MasterKeyPlace, input: MasterKeyRotationInput): NewKeyDestination {
  const { pending } = place;
  if (pending) {
    if (input.newKeyFile !== undefined || input.printNewKey)
      throw new UsageError('--new-key-file and --print-new-key are for a master key from AKM_MASTER_KEY', {
        hint: `the new key takes the old one's place in ${place.description}`,
      });
    return {
      description: place.description,
      pending: pending.description,
      keep: (key) => pending.write(key),
      settle: (key) => pending.promote(key),
    };
  }
  if (input.newKeyFile !== undefined && input.printNewKey)
    throw new UsageError('pass --new-key-file or --print-new-key, not both');
  if (input.newKeyFile !== undefined) {
    const file = resolve(input.newKeyFile);
    if (existsSync(file)) throw fileExists(file);
    return { description: file, pending: file, keep: (key) => writeKeyFile(file, key), settle: () => {} };
  }
  const print = input.printNewKey;
  if (input.dryRun && !print) return { description: 'none', pending: 'none', keep: () => {}, settle: () => {} };
  if (print)
    return {
      description: 'printed',
      pending: 'printed',
      keep: (key) => print(key.toString('base64')),
      settle: () => {},
    };
  throw new UsageError('missing --new-key-file <file> (or --print-new-key)', {
    hint:
      'the master key comes from AKM_MASTER_KEY, which akm cannot change: name a new file for the new key, ' +
      'then put its content in AKM_MASTER_KEY',
    code: 'missing_flag',
  });
}

type Counts = Pick<MasterKeyRotation, 'secrets' | 'rows' | 'auditRecords'>;

export async function rotateMasterKey(
  ctx: LocalContext,
  input: MasterKeyRotationInput,
): Promise<{ rotation: MasterKeyRotation; keys: DerivedKeys | null }> {
  authorize(ctx, { operation: 'master-key.rotate' });
  const from = await ctx.loadKeys();
  const { storeId, place } = await storeMasterKey(ctx.store, ctx.masterKey);
  const destination = destinationFor(place, input);
  const checkAll = async (q: Parameters<(typeof KEYED)[number]['check']>[0]) => {
    const counts: Counts = { secrets: 0, rows: 0, auditRecords: 0 };
    for (const part of KEYED) counts[part.counts] += await part.check(q, from);
    return { ...counts, tenants: (await listTenants(q)).length };
  };
  if (input.dryRun) {
    const counts = await ctx.store.read(checkAll);
    return { rotation: { dryRun: true, newKey: null, ...counts, auditHead: null, rotatedAt: null }, keys: null };
  }

  const next = randomBytes(MASTER_KEY_BYTES);
  const to = deriveKeys(next);
  const rotation = await ctx.store.rotateKey(checkValue(to, storeId), async (tx, rekeyIntegrity) => {
    const now = ctx.now();
    const at = now.toISOString();
    // Previous secrets past their grace go first: they are not worth re-sealing.
    await eraseEndedGraces(tx, now, null);
    const counts = await checkAll(tx);
    const tenants = await listTenants(tx);
    const headsBefore = new Map<string, string | null>();
    for (const tenant of tenants) {
      const head = await readAuditHead(tx, tenant.id);
      headsBefore.set(tenant.id, head ? formatAnchor(head) : null);
    }
    destination.keep(next);
    for (const part of KEYED) await part.rekey(tx, from, to, rekeyIntegrity);
    for (const tenant of tenants) {
      const acting = tenant.id === ctx.tenant.id;
      await appendAudit(tx, to.audit, {
        tenantId: tenant.id,
        at,
        // Another tenant learns that the store's operator rotated the key, not who they are.
        actor: acting ? ctx.actor.label : 'store operator',
        action: KEY_ROTATION_ACTION,
        target: null,
        details: {
          previousHead: headsBefore.get(tenant.id) ?? null,
          ...(acting ? { newKey: destination.description, ...counts } : {}),
        },
        source: ctx.source,
      });
    }
    const note: RotationNote = { at, by: `${ctx.actor.label} (${ctx.source})`, newKey: destination.description };
    await setMeta(tx, META_KEY_ROTATED, JSON.stringify(note));
    const head = await readAuditHead(tx, ctx.tenant.id);
    return {
      dryRun: false,
      newKey: destination.description,
      ...counts,
      auditHead: head ? formatAnchor(head) : null,
      rotatedAt: at,
    };
  });
  try {
    destination.settle(next);
  } catch (error) {
    throw new UnavailableError(
      `the master key was rotated, but the new key could not take the old one's place ` +
        `(${(error as Error).message}); it is kept in ${destination.pending}, and the next run of akm moves it`,
    );
  }
  return { rotation, keys: to };
}
