/**
 * Who used a key's secrets: the last SOURCES_KEPT distinct sources per secret (generation) and
 * kind, each with first and last seen and a count. Written in batches by the server
 * (core/usage.ts tallies them in memory); read by `akm show`. Not under a MAC: it decides
 * nothing, it only informs.
 */
import type { UseSource } from '../core/source.js';
import { SOURCES_KEPT, type Slot, type UseKind } from '../core/usage.js';
import type { Queryable } from './types.js';

export interface SourceRow {
  generation: number;
  kind: UseKind;
  source: UseSource;
  first_seen: string;
  last_seen: string;
  count: number;
}

// A key column cannot be NULL: '' stands for "none" (no valid service, address or user agent is empty).
const stored = (value: string | null) => value ?? '';
const read = (value: string) => (value === '' ? null : value);

/** Fold one slot's tallies into the store, then keep only its SOURCES_KEPT most recent sources. */
export async function addTallies(q: Queryable, slot: Slot): Promise<void> {
  const key = { keyId: slot.accessKeyId, generation: slot.generation, kind: slot.kind };
  // A key deleted since the use was noted took its uses with it.
  if (!(await q.get('SELECT 1 AS one FROM keys WHERE id = @keyId', { keyId: slot.accessKeyId }))) return;
  for (const t of slot.tallies) {
    await q.run(
      `INSERT INTO key_sources
         (key_id, generation, kind, service, address, user_agent, via, first_seen, last_seen, count)
       VALUES (@keyId, @generation, @kind, @service, @address, @userAgent, @via, @firstSeen, @lastSeen, @count)
       ON CONFLICT (key_id, generation, kind, service, address, user_agent, via) DO UPDATE SET
         first_seen = CASE WHEN excluded.first_seen < key_sources.first_seen
                           THEN excluded.first_seen ELSE key_sources.first_seen END,
         last_seen  = CASE WHEN excluded.last_seen > key_sources.last_seen
                           THEN excluded.last_seen ELSE key_sources.last_seen END,
         count      = key_sources.count + excluded.count`,
      {
        ...key,
        service: stored(t.source.service),
        address: stored(t.source.address),
        userAgent: stored(t.source.userAgent),
        via: stored(t.source.via),
        firstSeen: t.firstSeen,
        lastSeen: t.lastSeen,
        count: t.count,
      },
    );
  }
  await q.run(
    `DELETE FROM key_sources
      WHERE key_id = @keyId AND generation = @generation AND kind = @kind
        AND (service, address, user_agent, via) NOT IN (
          SELECT service, address, user_agent, via FROM key_sources
           WHERE key_id = @keyId AND generation = @generation AND kind = @kind
           ORDER BY last_seen DESC, count DESC LIMIT ${SOURCES_KEPT})`,
    key,
  );
}

/** A key_sources row as the engines return it. */
interface StoredSource {
  generation: number;
  kind: UseKind;
  service: string;
  address: string;
  user_agent: string;
  via: string;
  first_seen: string;
  last_seen: string;
  count: number;
}

const COLUMNS = 'generation, kind, service, address, user_agent, via, first_seen, last_seen, count';

function toSourceRow(r: StoredSource): SourceRow {
  return {
    generation: r.generation,
    kind: r.kind,
    source: { service: read(r.service), address: read(r.address), userAgent: read(r.user_agent), via: read(r.via) },
    first_seen: r.first_seen,
    last_seen: r.last_seen,
    count: r.count,
  };
}

/** Every source on record for a key, most recently seen first. */
export async function sourcesOf(q: Queryable, keyId: string): Promise<SourceRow[]> {
  const rows = await q.all<StoredSource>(
    `SELECT ${COLUMNS} FROM key_sources WHERE key_id = @keyId ORDER BY last_seen DESC, count DESC`,
    { keyId },
  );
  return rows.map(toSourceRow);
}

/** For each key of the tenant with a recorded use of its current secret, the source seen last. */
export async function latestSources(q: Queryable, tenantId: string, keyIds: string[]): Promise<Map<string, SourceRow>> {
  if (keyIds.length === 0) return new Map();
  const ids = Object.fromEntries(keyIds.map((id, i) => [`id${i}`, id]));
  const rows = await q.all<StoredSource & { key_id: string }>(
    `SELECT key_id, ${COLUMNS} FROM (
       SELECT s.*, row_number() OVER (PARTITION BY s.key_id ORDER BY s.last_seen DESC, s.count DESC) AS rank
         FROM key_sources s
        WHERE s.key_id IN (${Object.keys(ids)
          .map((name) => `@${name}`)
          .join(', ')})
          AND s.kind = 'use'
          -- A correlated check, not a join: joined, SQLite walks every key of the tenant to find
          -- the few that have sources (20 ms a page of 1,000 keys out of 100,000, against 3 ms).
          AND EXISTS (SELECT 1 FROM keys k
                       WHERE k.id = s.key_id AND k.tenant_id = @tenantId AND k.secret_generation = s.generation)) latest
      WHERE rank = 1`,
    { tenantId, ...ids },
  );
  return new Map(rows.map((r) => [r.key_id, toSourceRow(r)]));
}

/** After a rotation, uses of secrets older than the previous one are history nobody asks about. */
export async function forgetOldSecrets(q: Queryable, keyId: string, currentGeneration: number): Promise<void> {
  await q.run(`DELETE FROM key_sources WHERE key_id = @keyId AND kind = 'use' AND generation < @oldest`, {
    keyId,
    oldest: currentGeneration - 1,
  });
}

/** A new brownout lists what it refuses, not what an earlier one did. */
export async function forgetRefusals(q: Queryable, keyId: string): Promise<void> {
  await q.run(`DELETE FROM key_sources WHERE key_id = @keyId AND kind = 'refused'`, { keyId });
}
