/** Reading piped stdin: bounded, so a stray `cat /dev/zero |` cannot exhaust memory. */
import { UsageError } from '../../core/errors.js';

const MAX_BYTES = 64 * 1024;

export interface StdinLimits {
  /** default 64 KiB: a secret or a key string */
  maxBytes?: number;
  /** how to pipe the input in, for the error when none came */
  example?: string;
}

export async function readStdin(stdin: NodeJS.ReadableStream, what: string, limits: StdinLimits = {}): Promise<string> {
  const maxBytes = limits.maxBytes ?? MAX_BYTES;
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stdin) {
    const buffer = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    size += buffer.length;
    if (size > maxBytes) throw new UsageError(`${what} on stdin is too long (more than ${maxBytes} bytes)`);
    chunks.push(buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8').trim();
  if (text.length === 0)
    throw new UsageError(`no ${what} on stdin`, {
      hint: `e.g. ${limits.example ?? `printf '%s' "$KEY_STRING" | akm verify`}`,
      code: 'missing_input',
    });
  return text;
}
