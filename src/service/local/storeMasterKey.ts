/**
 * Which master key opens a store: the one the options point at (keychain, AKM_MASTER_KEY,
 * --master-key-file), recognised by the store's check value. When it is not the store's but the
 * key a rotation keeps beside it is, that rotation committed and was cut short before it moved
 * the new key into the old one's place (masterKey.ts): the move is finished here, and
 * the run goes on with the new key.
 */
import { UnavailableError } from '../../core/errors.js';
import { printable } from '../../core/validate.js';
import { checkMatches, deriveKeys, type DerivedKeys } from '../../crypto/keys.js';
import { masterKeyPlace, type MasterKeyOptions, type MasterKeyPlace } from '../../crypto/masterKey.js';
import { META_MASTER_CHECK } from '../../store/keyFence.js';
import { getMeta } from '../../store/meta.js';
import type { Store } from '../../store/types.js';

export const META_STORE_ID = 'store_id';
/** What the last rotation left for a run that still has the old key: when, who, and where the new key went. */
export const META_KEY_ROTATED = 'master_key_rotated';

export interface RotationNote {
  at: string;
  by: string;
  /** where the new key was put: "the OS keychain", a file, or "printed" */
  newKey: string;
}

export interface StoreMasterKey {
  storeId: string;
  /** the store's check value, which `keys` match */
  check: string;
  master: Buffer;
  keys: DerivedKeys;
  place: MasterKeyPlace;
}

export async function storeMasterKey(store: Store, options: MasterKeyOptions): Promise<StoreMasterKey> {
  const { storeId, check, note } = await store.read(async (q) => ({
    storeId: await getMeta(q, META_STORE_ID),
    check: await getMeta(q, META_MASTER_CHECK),
    note: await getMeta(q, META_KEY_ROTATED),
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
  const place = masterKeyPlace(options, storeId);
  const found = (master: Buffer): StoreMasterKey | null => {
    const keys = deriveKeys(master);
    return checkMatches(keys, storeId, check) ? { storeId, check, master, keys, place } : null;
  };
  let problem: Error | undefined;
  try {
    const opened = found(place.read());
    if (opened) return opened;
  } catch (error) {
    // A key that is missing or malformed may have a good one beside it; anything else stops here.
    const code = (error as { code?: unknown }).code;
    if (code !== 'master_key_missing' && code !== 'bad_master_key') throw error;
    problem = error as Error;
  }
  const pending = place.pending?.read();
  const recovered = pending ? found(pending) : null;
  if (recovered) {
    place.pending!.promote(pending!);
    return recovered;
  }
  throw problem ?? wrongMasterKey(note);
}

function wrongMasterKey(noteText: string | undefined): UnavailableError {
  let hint = 'use the master key this store was initialised with (keychain, AKM_MASTER_KEY or --master-key-file)';
  const note = parseNote(noteText);
  if (note)
    hint =
      `its master key was rotated at ${printable(note.at, 40)} by ${printable(note.by, 120)}, ` +
      `and the new key put in ${printable(note.newKey, 200)}: ` +
      'use that one (keychain, AKM_MASTER_KEY or --master-key-file)';
  return new UnavailableError('the master key does not match this store', { hint, code: 'wrong_master_key' });
}

function parseNote(text: string | undefined): RotationNote | null {
  if (!text) return null;
  try {
    const note = JSON.parse(text) as Partial<RotationNote>;
    const ok = [note.at, note.by, note.newKey].every((v) => typeof v === 'string');
    return ok ? (note as RotationNote) : null;
  } catch {
    return null;
  }
}
