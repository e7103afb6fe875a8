/** How many keys one user may own, whatever their status; tenant-level keys have no limit. */
export const MAX_KEYS_PER_USER = 2;

export function canOwnAnother(ownedCount: number): boolean {
  return ownedCount < MAX_KEYS_PER_USER;
}
