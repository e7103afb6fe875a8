/**
 * The pgpass file, as libpq reads it: lines of host:port:database:user:password, `*` matching
 * anything, `\:` and `\\` escaping, the first matching line wins. Like libpq, a file that
 * others can read is ignored.
 */
import { readFileSync, statSync } from 'node:fs';

interface Wanted {
  host: string;
  port: number;
  database: string;
  user: string;
}

function fields(line: string): string[] {
  const out: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i]!;
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':') {
      out.push(current);
      current = '';
    } else current += c;
  }
  out.push(current);
  return out;
}

export function pgpassLookup(file: string, wanted: Wanted): string | undefined {
  let text: string;
  try {
    const stat = statSync(file);
    if (!stat.isFile() || (stat.mode & 0o077) !== 0) return undefined;
    text = readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
  // A Unix socket folder matches "localhost", as in libpq.
  const host = wanted.host.startsWith('/') ? 'localhost' : wanted.host;
  const want = [host, String(wanted.port), wanted.database, wanted.user];
  for (const line of text.split(/\r?\n/)) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    const parts = fields(line);
    if (parts.length < 5) continue;
    if (want.every((value, i) => parts[i] === '*' || parts[i] === value)) return parts.slice(4).join(':');
  }
  return undefined;
}
