/**
 * Everything in a store that depends on the master key, and how a rotation moves each part to a
 * new key (masterKey.ts). Each part is first checked whole under the old keys: a rotation
 * never re-keys what was altered behind akm's back (that would make the tampering look genuine),
 * it refuses with exit 6 and changes nothing. Then each part is re-keyed, all in the rotation's
 * one transaction.
 *
 * A new kind of data sealed or MAC'd under the master key is one more entry in KEYED. Keep
 * `integrityMacs` after every part that changes a covered column (store/integrity.ts, COVERED),
 * and the audit chains last.
 */
import { UnavailableError } from '../../core/errors.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import { openSecret, sealSecret, secretDigest } from '../../crypto/seal.js';
import { rekeyChain } from '../../store/audit.js';
import { chainReport } from '../../store/auditVerify.js';
import { checkRows, TamperedRecordError } from '../../store/integrity.js';
import { resealSecrets, sealedSecrets, type SealedSecretsRow } from '../../store/keys.js';
import { listTenants } from '../../store/tenants.js';
import { resealWebhookSecret, sealedWebhookSecrets } from '../../store/webhooks.js';
import type { Queryable, RekeyIntegrity } from '../../store/types.js';

export interface KeyedPart {
  /** what the rotation's result counts for it */
  readonly counts: 'secrets' | 'rows' | 'auditRecords';
  /** throws (exit 6) unless all of it holds under `from`; returns how much there is */
  check(q: Queryable, from: DerivedKeys): Promise<number>;
  rekey(q: Queryable, from: DerivedKeys, to: DerivedKeys, rekeyIntegrity: RekeyIntegrity): Promise<number>;
}

const BATCH = 500;

/**
 * Each key's secrets opened under `from`. Their digests need no check of their own here: the
 * row's MAC covers them (and the sealed secrets), and `integrityMacs` checks every row under the
 * old key before anything is re-keyed, in the same transaction.
 */
async function eachKey(
  q: Queryable,
  from: DerivedKeys,
  visit: (row: SealedSecretsRow, secret: string, previous: string | null) => Promise<void>,
): Promise<number> {
  let secrets = 0;
  for (let after = ''; ;) {
    const batch = await sealedSecrets(q, after, BATCH);
    for (const row of batch) {
      const open = (sealed: Buffer) => openSecret(from, row.tenant_id, row.id, sealed);
      const secret = open(row.secret_sealed);
      const previous = row.previous_sealed ? open(row.previous_sealed) : null;
      secrets += previous === null ? 1 : 2;
      await visit(row, secret, previous);
    }
    if (batch.length < BATCH) return secrets;
    after = batch[batch.length - 1]!.id;
  }
}

/**
 * The sealed secret of every key, and the previous one while a grace period lasts. The digest
 * kept of a secret replaced without grace (for `verify --explain`) cannot be recomputed without
 * that secret: it is dropped.
 */
const keySecrets: KeyedPart = {
  counts: 'secrets',
  check: (q, from) => eachKey(q, from, async () => {}),
  rekey: (q, from, to) =>
    eachKey(q, from, (row, secret, previous) => {
      const seal = (text: string) => sealSecret(to, row.tenant_id, row.id, text);
      const digest = (text: string) => secretDigest(to, row.tenant_id, row.id, text);
      return resealSecrets(q, row.id, {
        secret_sealed: seal(secret),
        secret_digest: digest(secret),
        previous_sealed: previous === null ? null : seal(previous),
        previous_digest: previous === null ? null : digest(previous),
      });
    }),
};

/**
 * Every webhook's signing secret (sealed like a key's, bound to its tenant and id). A secret
 * that does not open under the old key refuses the rotation, as an altered key secret does.
 */
const webhookSecrets: KeyedPart = {
  counts: 'secrets',
  check: async (q, from) => {
    const rows = await sealedWebhookSecrets(q);
    for (const row of rows) openSecret(from, row.tenant_id, row.id, row.secret_sealed);
    return rows.length;
  },
  rekey: async (q, from, to) => {
    const rows = await sealedWebhookSecrets(q);
    for (const row of rows) {
      const secret = openSecret(from, row.tenant_id, row.id, row.secret_sealed);
      await resealWebhookSecret(q, row.id, sealSecret(to, row.tenant_id, row.id, secret));
    }
    return rows.length;
  },
};

/** The MACs of keys, roles, groups and users (store/integrity.ts), every tenant's. */
const integrityMacs: KeyedPart = {
  counts: 'rows',
  check: async (q) => {
    const { rows, tampered } = await checkRows(q, null);
    const first = tampered[0];
    if (first) throw new TamperedRecordError(first.table, first.row);
    return rows;
  },
  rekey: (_q, _from, to, rekeyIntegrity) => rekeyIntegrity(to.integrity),
};

/** Every tenant's audit chain and sealed head. */
const auditChains: KeyedPart = {
  counts: 'auditRecords',
  check: async (q, from) => {
    let records = 0;
    for (const tenant of await listTenants(q)) {
      const report = await chainReport(q, from.audit, tenant.id);
      const first = report.problems[0];
      if (first)
        throw new UnavailableError(`the audit trail of ${tenant.id} does not verify: ${first.message}`, {
          hint: 'the master key was not rotated; restore the store from a backup you trust',
          code: 'audit_tampered',
        });
      records += report.records;
    }
    return records;
  },
  rekey: async (q, _from, to) => {
    let records = 0;
    for (const tenant of await listTenants(q)) records += await rekeyChain(q, tenant.id, to.audit);
    return records;
  },
};

export const KEYED: readonly KeyedPart[] = [keySecrets, webhookSecrets, integrityMacs, auditChains];
