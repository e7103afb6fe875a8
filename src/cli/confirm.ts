/** Destructive commands ask first; without a terminal they need --yes. */
import { CancelledError } from '../core/errors.js';
import type { Deps } from './deps.js';

/** The default answer is No; saying no prints `declined` ("not deleted") and exits 130. */
export async function confirmDestructive(deps: Deps, message: string, declined: string): Promise<void> {
  if (deps.global.yes) return;
  const ok = await deps.prompter.confirm({ message, flag: '--yes', default: false });
  if (!ok) throw new CancelledError(declined);
}
