/**
 * Which master key a store is under, as each write sees it. A process loads its keys once; another
 * process may rotate the master key meanwhile (`akm master-key rotate`), and a process that went
 * on writing with the old keys would seal secrets and MAC rows under a key that nobody keeps any
 * more. So every write transaction of a process that holds keys first reads the store's check
 * value (the value `akm` keeps to recognise its master key): when it is no longer the one the
 * process's keys belong to, the write is refused before it changes anything. A replica holding the
 * old key fails closed; it never corrupts.
 *
 * On PostgreSQL that read takes a share lock on the check value's row, and a rotation holds the
 * row exclusively for its whole transaction: writes queue behind the rotation, then see the new
 * value. On SQLite every write excludes every other anyway.
 */
import { UnavailableError } from '../core/errors.js';
import { getMeta } from './meta.js';
import type { Queryable } from './types.js';

export const META_MASTER_CHECK = 'master_key_check';

export class MasterKeyReplacedError extends UnavailableError {
  constructor() {
    super('the master key of this store was rotated after this process loaded it; nothing was changed', {
      hint:
        'start akm again with the new master key (keychain, AKM_MASTER_KEY or --master-key-file); ' +
        'every akm serve on the store needs it',
      code: 'master_key_rotated',
    });
  }
}

export class KeyFence {
  /** the check value of the keys this process holds; null until it holds some */
  private check: string | null = null;

  arm(check: string): void {
    this.check = check;
  }

  get armed(): boolean {
    return this.check !== null;
  }

  /**
   * The first statement of a write transaction. `exclusive` for the rotation itself, which then
   * holds the row until it commits. A store without a check value yet (the first `akm init`
   * writes it in the same transaction as the tenant) lets the write through.
   */
  async pass(q: Queryable, lock: 'share' | 'exclusive'): Promise<void> {
    if (this.check === null) return;
    const row = await q.get<{ value: string }>(
      `SELECT value FROM meta WHERE key = @key${lock === 'share' ? q.dialect.forShare : q.dialect.forUpdate}`,
      { key: META_MASTER_CHECK },
    );
    if (row !== undefined && row.value !== this.check) throw new MasterKeyReplacedError();
  }

  /** Has another process rotated the master key since this one loaded its keys? */
  async replaced(q: Queryable): Promise<boolean> {
    if (this.check === null) return false;
    const stored = await getMeta(q, META_MASTER_CHECK);
    return stored !== undefined && stored !== this.check;
  }
}
