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
