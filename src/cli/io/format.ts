/** Turning values into text for people: dates relative on a terminal and ISO when piped; names made safe to print. */
import { printable } from '../../core/validate.js';
import type { KeyStatus } from '../../service/types.js';
import type { Io } from './io.js';

export { printable };

type FormatDistance = (date: Date, base: Date, options: { addSuffix: boolean }) => string;
let formatDistance: FormatDistance | undefined;

/** date-fns is loaded only when a person is reading (a terminal), keeping piped runs lean. */
export async function prepareDates(io: Io): Promise<void> {
  if (io.terminal.stdoutIsTTY && !formatDistance)
    formatDistance = (await import('date-fns/formatDistance')).formatDistance;
}

export function when(io: Io, iso: string | null, never = 'never', now = new Date()): string {
  if (iso === null) return never;
  if (!io.terminal.stdoutIsTTY || !formatDistance) return iso;
  return formatDistance(new Date(iso), now, { addSuffix: true });
}

const WEEK_MS = 7 * 86_400_000;

export function styledStatus(io: Io, status: KeyStatus, expiresAt: string | null, now = new Date()): string {
  if (status === 'expired') return io.style.red(status);
  if (status === 'inactive') return io.style.dim(status);
  if (expiresAt !== null && Date.parse(expiresAt) - now.getTime() < WEEK_MS)
    return io.style.yellow(`${status} (expiring)`);
  return io.style.green(status);
}

export function styledExpiry(io: Io, expiresAt: string | null, now = new Date()): string {
  const text = when(io, expiresAt, 'never', now);
  if (expiresAt === null) return io.style.dim(text);
  const left = Date.parse(expiresAt) - now.getTime();
  if (left <= 0) return io.style.red(text);
  if (left < WEEK_MS) return io.style.yellow(text);
  return text;
}

export function list(values: string[]): string {
  return values.length === 0 ? '-' : values.map((v) => printable(v)).join(', ');
}
