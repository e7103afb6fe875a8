/** How many keys one user may own (SPEC §1), whatever their status. */
export const MAX_KEYS_PER_USER = 2;

export function canOwnAnother(ownedCount: number): boolean {
  return ownedCount < MAX_KEYS_PER_USER;
}
