/** Destructive commands ask first; without a terminal they need --yes. */
import { CancelledError } from '../core/errors.js';
import type { Deps } from './deps.js';

export async function confirmDestructive(deps: Deps, message: string): Promise<void> {
  if (deps.global.yes) return;
  const ok = await deps.prompter.confirm({ message, flag: '--yes', default: false });
  if (!ok) throw new CancelledError('nothing was changed');
}
