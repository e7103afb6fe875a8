/**
 * Turning values into text for people: local dates on a terminal and ISO-8601 UTC when piped;
 * names made safe to print.
 */
import { printable } from '../../core/validate.js';
import type { KeyStatus } from '../../service/types.js';
import { expiryMoment, localDateTime, relativeTime } from './dates.js';
import type { Io } from './io.js';
import type { Cell } from './table.js';

export { printable };

const WEEK_MS = 7 * 86_400_000;

export interface WhenOptions {
  now: Date;
  /** what a missing date means ("never", "-") */
  empty?: string;
  /** the relative form beside the date: always, only within a week of now (the default), or never */
  relative?: 'always' | 'near' | 'never';
  seconds?: boolean;
  /** an expiry: a key valid through a day shows that day's last minute, not the next midnight */
  expiry?: boolean;
}

/** A timestamp for people on a terminal (`2027-06-30 23:59 (in 3 days)`); the exact ISO string when piped. */
export function when(io: Io, iso: string | null, options: WhenOptions): string {
  if (iso === null) return options.empty ?? '-';
  if (!io.terminal.stdoutIsTTY) return iso;
  const date = new Date(iso);
  const shown = localDateTime(options.expiry ? expiryMoment(date) : date, options.seconds);
  const relative = options.relative ?? 'near';
  const near = Math.abs(date.getTime() - options.now.getTime()) < WEEK_MS;
  return relative === 'always' || (relative === 'near' && near)
    ? `${shown} (${relativeTime(date, options.now)})`
    : shown;
}

/** Expired red, inactive dim; active and expiring within a week yellow (the expiry beside says when). */
export function styledStatus(io: Io, status: KeyStatus, expiresAt: string | null, now: Date): string {
  if (status === 'expired') return io.style.red(status);
  if (status === 'inactive') return io.style.dim(status);
  if (expiresAt !== null && Date.parse(expiresAt) - now.getTime() < WEEK_MS) return io.style.yellow(status);
  return io.style.green(status);
}

/** Past red, within a week yellow: how an expiry date is coloured. */
function expiryColour(io: Io, expiresAt: string | null, now: Date): (text: string) => string {
  if (expiresAt === null) return io.style.dim;
  const left = Date.parse(expiresAt) - now.getTime();
  if (left <= 0) return io.style.red;
  if (left < WEEK_MS) return io.style.yellow;
  return (text) => text;
}

export function styledExpiry(
  io: Io,
  expiresAt: string | null,
  now: Date,
  relative: WhenOptions['relative'] = 'near',
): string {
  return expiryColour(io, expiresAt, now)(when(io, expiresAt, { now, empty: 'never', relative, expiry: true }));
}

/** A date in a table: with "(in 3 days)" beside it, and without it where the terminal is narrow. */
export function dateCell(io: Io, iso: string | null, options: WhenOptions): Cell {
  const text = when(io, iso, options);
  const short = when(io, iso, { ...options, relative: 'never' });
  return text === short ? text : { text, short };
}

/** An expiry in a table, coloured as styledExpiry, in both forms. */
export function expiryCell(io: Io, expiresAt: string | null, now: Date): Cell {
  const colour = expiryColour(io, expiresAt, now);
  const cell = dateCell(io, expiresAt, { now, empty: 'never', expiry: true });
  return typeof cell === 'string' ? colour(cell) : { text: colour(cell.text), short: colour(cell.short) };
}

export function list(values: string[]): string {
  return values.length === 0 ? '-' : values.map((v) => printable(v)).join(', ');
}

/** "1 key", "3 keys" */
export function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** "acme (Acme Inc.)"; just "acme" when the tenant's name is its id (init without --tenant-name). */
export function tenantLabel(id: string, name: string): string {
  return name === id ? id : `${id} (${printable(name)})`;
}
