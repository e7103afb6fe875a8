/**
 * The helper that `akm create` and `akm rotate` leave behind (src/cli/io/clipboard.ts): reads
 * `{digest, seconds}` on stdin, waits, and empties the clipboard if it still holds the key
 * string with that digest — something copied meanwhile is left alone. Run detached, as its
 * own program; it never sees the key string itself.
 */
import { clipboardDigest } from './clipboard.js';

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

async function clearWhenDue(): Promise<void> {
  const { digest, seconds } = JSON.parse(await readStdin()) as { digest: string; seconds: number };
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
  const { default: clipboardy } = await import('clipboardy');
  if (clipboardDigest(await clipboardy.read()) === digest) await clipboardy.write('');
}

clearWhenDue().catch(() => {
  // Nothing to tell: nobody is watching a detached helper. A clipboard that went away is empty enough.
});
