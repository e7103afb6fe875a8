/**
 * System services some tests need (Secret Service, an X clipboard, tmux). Under CI=true a
 * missing one fails the test loudly; on a developer machine the test passes with a note
 * saying what to install.
 */
import { spawnSync } from 'node:child_process';
import type { ExecutionContext } from 'ava';

export function hasCommand(name: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${name}`], { stdio: 'ignore' }).status === 0;
}

export function secretServiceAvailable(): boolean {
  if (!process.env.DBUS_SESSION_BUS_ADDRESS) return false;
  const probe = spawnSync('secret-tool', ['search', 'service', 'akm-probe'], { encoding: 'utf8', timeout: 10_000 });
  return probe.status === 0 || probe.status === 1;
}

export function clipboardAvailable(): boolean {
  return !!process.env.DISPLAY && hasCommand('xsel');
}

/** Returns true when the test may go on; otherwise fails (CI) or notes the skip. */
export function requireService(t: ExecutionContext, name: string, available: boolean, install: string): boolean {
  if (available) return true;
  const message = `${name} is not available (${install}; npm test starts it via scripts/test.sh)`;
  if (process.env.CI) {
    t.fail(`CI: ${message}`);
  } else {
    t.log(`skipped: ${message}`);
    t.pass();
  }
  return false;
}
