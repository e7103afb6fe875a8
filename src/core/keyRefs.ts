/**
 * The keys a bulk command acts on, read from stdin: what `akm list` prints (the JSON array of
 * `--json`, or the lines of `--ndjson`), or plain lines of access key ids or names. Pure: the
 * text in, the references out, in their first order, each once.
 */
import { UsageError } from './errors.js';

/** A bulk command acts on at most this many keys: one transaction must stay short. */
export const MAX_BULK_KEYS = 10_000;

/** 10000 → "10,000". Not toLocaleString: its first call loads ICU's locale data, a tenth of a start-up. */
export function groupDigits(n: number): string {
  return String(n).replace(/\B(?=(\d{3})+(?!\d))/g, ',');
}

function invalid(message: string): UsageError {
  return new UsageError(message, {
    hint: 'pipe in what `akm list --json` or `--ndjson` prints, or one access key id per line',
    code: 'invalid_key_list',
  });
}

function refOf(item: unknown, where: string): string {
  if (typeof item === 'string') return item;
  if (item && typeof item === 'object' && typeof (item as { accessKeyId?: unknown }).accessKeyId === 'string')
    return (item as { accessKeyId: string }).accessKeyId;
  throw invalid(`${where} has no accessKeyId`);
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw invalid(`${where} is not valid JSON`);
  }
}

export function parseKeyRefs(text: string): string[] {
  const trimmed = text.trim();
  let refs: string[];
  if (trimmed.startsWith('[')) {
    const value = parseJson(trimmed, 'the input');
    if (!Array.isArray(value)) throw invalid('the input is not a JSON array');
    refs = value.map((item, i) => refOf(item, `item ${i + 1}`));
  } else {
    const lines = trimmed.split(/\r?\n/);
    refs = [];
    lines.forEach((line, i) => {
      const entry = line.trim();
      if (entry.length === 0) return;
      const json = entry.startsWith('{') || entry.startsWith('"');
      refs.push(json ? refOf(parseJson(entry, `line ${i + 1}`), `line ${i + 1}`) : entry);
    });
  }
  const unique = [...new Set(refs.map((ref) => ref.trim()).filter((ref) => ref.length > 0))];
  // No keys is an answer, not a mistake: `akm list --unused-for 90 --json | akm deactivate --stdin`
  // run by cron finds nothing to do on most days.
  checkBulkSize(unique.length);
  return unique;
}

export function checkBulkSize(count: number): void {
  if (count > MAX_BULK_KEYS)
    throw new UsageError(
      `${groupDigits(count)} keys is more than the ${groupDigits(MAX_BULK_KEYS)} one command acts on`,
      {
        hint: 'narrow the selection (e.g. akm list --owner EMAIL, --name GLOB) and run it in parts',
        code: 'too_many_keys',
      },
    );
}
