/**
 * The system clipboard through clipboardy. The text goes to the helper program (xsel,
 * pbcopy, clip) on its stdin, never in its arguments, so a secret does not show in `ps`.
 * A copied key string is cleared again after 45 s if it is still there, as `pass` does.
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { isCI } from './terminal.js';
import type { Io } from './io.js';

export interface Clipboard {
  /** resolves false (with the reason) when there is no clipboard to write to */
  write(text: string): Promise<{ ok: true } | { ok: false; reason: string }>;
  /** after `seconds`, empty the clipboard if it still holds `text`; the command does not wait for it */
  clearLater(text: string, seconds: number): void;
}

/** What the clearing helper compares with: a digest, so the text itself never leaves this process. */
export function clipboardDigest(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

export class SystemClipboard implements Clipboard {
  async write(text: string): Promise<{ ok: true } | { ok: false; reason: string }> {
    try {
      const { default: clipboardy } = await import('clipboardy');
      await clipboardy.write(text);
      return { ok: true };
    } catch (error) {
      const reason = error instanceof Error ? error.message.split('\n')[0]! : 'unknown error';
      return { ok: false, reason };
    }
  }

  /**
   * A detached helper process waits and clears, so `akm create` returns at once and the
   * clearing survives the terminal closing. It gets only the digest, on its stdin.
   */
  clearLater(text: string, seconds: number): void {
    const helper = fileURLToPath(new URL('./clear-clipboard.js', import.meta.url));
    const child = spawn(process.execPath, [helper], { detached: true, stdio: ['pipe', 'ignore', 'ignore'] });
    child.on('error', () => {}); // best effort: the notice already said when it would be cleared
    child.stdin.on('error', () => {});
    child.stdin.end(JSON.stringify({ digest: clipboardDigest(text), seconds }));
    child.unref();
  }
}

export const DEFAULT_CLEAR_SECONDS = 45;

/** AKM_CLIPBOARD_SECONDS (like pass's PASSWORD_STORE_CLIP_TIME): 0 keeps the key string there. */
function clearSeconds(io: Io, env: NodeJS.ProcessEnv): number {
  const text = env.AKM_CLIPBOARD_SECONDS;
  if (text === undefined || text === '') return DEFAULT_CLEAR_SECONDS;
  if (/^\d{1,5}$/.test(text.trim())) return Number(text);
  io.warn(`AKM_CLIPBOARD_SECONDS must be a whole number of seconds; using ${DEFAULT_CLEAR_SECONDS}`);
  return DEFAULT_CLEAR_SECONDS;
}

/** clipboardy explains at length; one line says enough. */
function shortReason(reason: string): string {
  if (/display server|can't open display/i.test(reason)) return 'no display to hold it';
  if (/xsel|ENOENT/i.test(reason)) return 'no clipboard program (install xsel)';
  const first = reason.split(/(?<=\.)\s/)[0]!;
  return first.length > 80 ? `${first.slice(0, 79)}…` : first;
}

/**
 * Copy a new key string for the person at the terminal. Without a terminal (a pipeline, CI)
 * nothing is copied unless --copy asks for it: a desktop clipboard is no place for a secret
 * that a script is handling. A missing clipboard is a warning, never a failure.
 */
export async function copyKeyString(
  deps: { io: Io; clipboard: Clipboard; env: NodeJS.ProcessEnv },
  keyString: string,
  flag: boolean | undefined,
): Promise<void> {
  const { io, clipboard, env } = deps;
  if (!(flag ?? (io.terminal.stdoutIsTTY && !isCI(env)))) return;
  const result = await clipboard.write(keyString);
  if (!result.ok) return io.warn(`not copied to the clipboard: ${shortReason(result.reason)}; the key string is above`);
  const seconds = clearSeconds(io, env);
  if (seconds > 0) clipboard.clearLater(keyString, seconds);
  io.info(
    io.errStyle.green('✓ key string copied to the clipboard') +
      (seconds > 0 ? ` (cleared in ${seconds} s unless you copy something else first)` : ''),
  );
}
