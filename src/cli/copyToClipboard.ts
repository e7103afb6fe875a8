/** Copy a key string; a missing clipboard is a warning, never a failure of the command. */
import type { Deps } from './deps.js';

export async function copyKeyString(deps: Deps, keyString: string, wanted: boolean): Promise<boolean> {
  if (!wanted) return false;
  const result = await deps.clipboard.write(keyString);
  if (!result.ok) deps.io.warn(`could not copy to the clipboard (${result.reason}); copy the key string from above`);
  return result.ok;
}
