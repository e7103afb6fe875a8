/**
 * `akm store copy <from> <to>`: move a store to the other engine (SQLite to PostgreSQL, when a
 * team outgrows one machine, and back), offline: no server or CLI may write the source
 * meanwhile, as the copy is read from one snapshot of it.
 *
 * The rows go over as they are (store/copy.ts), sealed secrets and integrity MACs included,
 * so both stores use the same master key: it is checked against the source first. The source
 * is verified before (every tenant's audit chain and every MAC: a damaged store is not copied)
 * and the target after: the same rows in every table, the same audit head in every tenant,
 * every MAC holding under the master key.
 */
import { UsageError, UnavailableError } from '../../core/errors.js';
import { displayStore } from '../../core/storeUrl.js';
import type { DerivedKeys } from '../../crypto/keys.js';
import type { MasterKeyOptions } from '../../crypto/masterKey.js';
import { copyRows, countRows, type CopiedTable } from '../../store/copy.js';
import { verifyChain } from '../../store/auditVerify.js';
import { findTamperedRows } from '../../store/integrity.js';
import { openStore } from '../../store/open.js';
import { listTenants } from '../../store/tenants.js';
import type { Store } from '../../store/types.js';
import { storeKeys } from './bootstrap.js';

export interface StoreCopyOptions {
  from: string;
  to: string;
  masterKey: MasterKeyOptions;
  env?: NodeJS.ProcessEnv;
}

export interface StoreCopyReport {
  from: string;
  to: string;
  tables: CopiedTable[];
  tenants: Array<{ tenantId: string; records: number; head: string | null }>;
}

interface TenantState {
  tenantId: string;
  records: number;
  head: string | null;
}

/** Every tenant's chain and rows checked; what a copy must reproduce exactly. */
async function verifiedTenants(store: Store, keys: DerivedKeys, which: string): Promise<TenantState[]> {
  const tenants = await store.read((q) => listTenants(q));
  const states: TenantState[] = [];
  for (const { id } of tenants) {
    const chain = await verifyChain(store, keys.audit, id);
    const altered = await store.read((q) => findTamperedRows(q, id));
    const problem = chain.problems[0]?.message ?? altered[0]?.message;
    if (problem)
      throw new UnavailableError(`the ${which} store fails its check in tenant ${id}: ${problem}`, {
        hint: which === 'source' ? 'run `akm audit verify` on it; nothing was copied' : 'the target was left as it is',
        code: which === 'source' ? 'audit_tampered' : 'copy_mismatch',
      });
    states.push({
      tenantId: id,
      records: chain.records,
      head: chain.head ? `${chain.head.seq}:${chain.head.mac}` : null,
    });
  }
  return states;
}

function mismatch(to: string, what: string): UnavailableError {
  return new UnavailableError(`the copy in ${to} does not match its source: ${what}`, {
    hint: 'the target was left as it is; empty it before trying again',
    code: 'copy_mismatch',
  });
}

export async function copyStore(options: StoreCopyOptions): Promise<StoreCopyReport> {
  const [from, to] = [displayStore(options.from), displayStore(options.to)];
  if (from === to) throw new UsageError('the source and the target are the same store', { hint: 'name two stores' });
  const source = await openStore(options.from, { env: options.env });
  try {
    // The master key is checked against the source's check value; the target gets that value with the rows.
    const keys = await storeKeys(source, options.masterKey);
    const before = await verifiedTenants(source, keys, 'source');
    const target = await openStore(options.to, { create: true, env: options.env });
    try {
      const tables = await copyRows(source, target);
      const names = tables.map((t) => t.table);
      const [had, has] = await Promise.all([source, target].map((s) => s.read((q) => countRows(q, names))));
      for (const { table, rows } of tables)
        if (had!.get(table) !== rows || has!.get(table) !== rows)
          throw mismatch(to, `${table} has ${has!.get(table)} rows, the source ${had!.get(table)}`);
      await storeKeys(target, options.masterKey);
      const after = await verifiedTenants(target, keys, 'target');
      if (JSON.stringify(after) !== JSON.stringify(before)) throw mismatch(to, 'the audit trails differ');
      return { from, to, tables, tenants: after };
    } finally {
      await target.close();
    }
  } finally {
    await source.close();
  }
}
