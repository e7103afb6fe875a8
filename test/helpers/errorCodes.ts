/** The README's list of error codes, read as a table: code → exit code and meaning. */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './paths.js';

export interface DocumentedCode {
  exit: number;
  meaning: string;
}

export function documentedErrorCodes(): Map<string, DocumentedCode> {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = /^## Error codes\n([\s\S]*?)(?=^## )/m.exec(readme)?.[1];
  if (!section) throw new Error('README.md has no "## Error codes" section');
  const codes = new Map<string, DocumentedCode>();
  for (const match of section.matchAll(/^\| `([a-z_]+)`\s*\|\s*(\d+)\s*\|\s*(.+?)\s*\|$/gm))
    codes.set(match[1]!, { exit: Number(match[2]), meaning: match[3]! });
  return codes;
}
