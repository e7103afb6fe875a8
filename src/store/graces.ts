/**
 * Graces that ended by themselves, as the (keyless) erase noted them (integrity.ts,
 * eraseEndedGraces): taken, audited and announced by a transaction that holds the keys.
 */
import type { Queryable } from './types.js';

export interface GraceEndRow {
  key_id: string;
  tenant_id: string;
  reason: 'quiet' | 'cap';
  ended_at: string;
}

/** The noted ends of a tenant (null: every tenant), removed as they are taken. */
export function takeGraceEnds(q: Queryable, tenantId: string | null): Promise<GraceEndRow[]> {
  return q.all<GraceEndRow>(
    `DELETE FROM grace_ends WHERE CAST(@tenantId AS TEXT) IS NULL OR tenant_id = @tenantId
     RETURNING key_id, tenant_id, reason, ended_at`,
    { tenantId },
  );
}
