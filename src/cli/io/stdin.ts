/** Reading a secret from piped stdin: bounded, so a stray `cat /dev/zero |` cannot exhaust memory. */
import { UsageError } from '../../core/errors.js';

const MAX_BYTES = 64 * 1024;

export async function readStdin(stdin: NodeJS.ReadableStream, what: string): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > MAX_BYTES) throw new UsageError(`${what} on stdin is too long`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text.length === 0)
    throw new UsageError(`no ${what} on stdin`, {
      hint: `e.g. printf '%s' "$KEY_STRING" | akm verify`,
      code: 'missing_input',
    });
  return text;
}
