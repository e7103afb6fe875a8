/**
 * Durations typed by people: "90s", "15m", "1h30m", "2d", "1w". One grammar for every flag
 * that takes one (rotate --grace and --quiet-for, deactivate --for), each with its own bounds.
 */
import { UsageError } from './errors.js';

export const MINUTE_MS = 60_000;
export const HOUR_MS = 60 * MINUTE_MS;
export const DAY_MS = 24 * HOUR_MS;

const DURATION = /^(\d+\s*(ms|s|m|h|d|w)\s*)+$/;
const DURATION_PART = /(\d+)\s*(ms|s|m|h|d|w)/g;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: MINUTE_MS, h: HOUR_MS, d: DAY_MS, w: 7 * DAY_MS };

/** "30 days", "1 minute", "90 seconds": a bound in words for an error message. */
export function describeDuration(ms: number): string {
  const units: Array<[string, number]> = [
    ['day', DAY_MS],
    ['hour', HOUR_MS],
    ['minute', MINUTE_MS],
    ['second', 1000],
  ];
  const [unit, size] = units.find(([, size]) => ms % size === 0 && ms >= size) ?? ['millisecond', 1];
  const count = ms / size;
  return `${count} ${unit}${count === 1 ? '' : 's'}`;
}

/** The milliseconds a duration flag means, within [minMs, maxMs]; a UsageError naming the flag otherwise. */
export function parseDurationFlag(text: string, flag: string, bounds: { minMs: number; maxMs: number }): number {
  const value = String(text).trim().toLowerCase();
  if (!DURATION.test(value))
    throw new UsageError(`${flag} needs a duration such as 30m, 12h or 7d, got "${value.slice(0, 40)}"`);
  let total = 0;
  for (const part of value.matchAll(DURATION_PART)) total += Number(part[1]) * UNIT_MS[part[2]!]!;
  if (total <= 0) throw new UsageError(`${flag} must be longer than zero`);
  if (total < bounds.minMs) throw new UsageError(`${flag} must be at least ${describeDuration(bounds.minMs)}`);
  if (total > bounds.maxMs) throw new UsageError(`${flag} may be at most ${describeDuration(bounds.maxMs)}`);
  return total;
}
