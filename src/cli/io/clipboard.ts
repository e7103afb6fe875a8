/**
 * The system clipboard through clipboardy. The text goes to the helper program (xsel,
 * pbcopy, clip) on its stdin, never in its arguments, so a secret does not show in `ps`.
 */
export interface Clipboard {
  /** resolves false (with the reason) when there is no clipboard to write to */
  write(text: string): Promise<{ ok: true } | { ok: false; reason: string }>;
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
}

/** Copy a key string; a missing clipboard is a warning, never a failure of the command. */
export async function copyKeyString(
  clipboard: Clipboard,
  warn: (text: string) => void,
  keyString: string,
  wanted: boolean,
): Promise<boolean> {
  if (!wanted) return false;
  const result = await clipboard.write(keyString);
  if (!result.ok) warn(`could not copy to the clipboard (${result.reason}); copy the key string from above`);
  return result.ok;
}
