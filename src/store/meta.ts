import type { Queryable } from './types.js';

export async function getMeta(q: Queryable, key: string): Promise<string | undefined> {
  return (await q.get<{ value: string }>('SELECT value FROM meta WHERE key = @key', { key }))?.value;
}

export async function deleteMeta(q: Queryable, key: string): Promise<void> {
  await q.run('DELETE FROM meta WHERE key = @key', { key });
}

/**
 * Sets the value unless one is there already, and returns the one that stays. Safe when two
 * processes race (PostgreSQL has no store-wide write lock): the second waits for the first
 * one's insert to commit, then finds its value.
 */
export async function settleMeta(q: Queryable, key: string, value: string): Promise<string> {
  await q.run('INSERT INTO meta (key, value) VALUES (@key, @value) ON CONFLICT (key) DO NOTHING', { key, value });
  return (await getMeta(q, key))!;
}

/** Sets the value, whatever was there. */
export async function setMeta(q: Queryable, key: string, value: string): Promise<void> {
  await q.run('INSERT INTO meta (key, value) VALUES (@key, @value) ON CONFLICT (key) DO UPDATE SET value = @value', {
    key,
    value,
  });
}
