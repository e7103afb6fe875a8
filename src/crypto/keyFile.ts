/**
 * Master key files: one base64 line, owner-only. Written the way a key that must survive a crash
 * is written: created exclusively (a key file is never overwritten: the key in it may be the only
 * copy), flushed to disk with its folder before anyone relies on it, and moved into place with a
 * rename, which either happens whole or not at all.
 */
import { closeSync, fsyncSync, openSync, readFileSync, renameSync, statSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { ConflictError, UnavailableError, UsageError } from '../core/errors.js';
import { parseMasterKey } from './keys.js';

/** Like ssh with a private key: a key file that group or others can read is refused, not used. */
export function readKeyFile(path: string): Buffer {
  let text: string;
  try {
    const mode = statSync(path).mode;
    if (process.platform !== 'win32' && (mode & 0o077) !== 0) {
      throw new UnavailableError(
        `the master key file ${path} is open to other users (mode ${(mode & 0o777).toString(8)}); it was not used`,
        {
          hint: `chmod 600 ${path}; if others may have read it, treat every secret in the store as exposed`,
          code: 'master_key_exposed',
        },
      );
    }
    text = readFileSync(path, 'utf8');
  } catch (error) {
    if (error instanceof UnavailableError) throw error;
    throw new UnavailableError(
      `cannot read the master key file ${path} (${(error as NodeJS.ErrnoException).code ?? 'error'})`,
      { code: 'master_key_missing' },
    );
  }
  return parseMasterKey(text, `the master key file ${path}`);
}

export const fileExists = (path: string) =>
  new ConflictError(`${path} already exists; akm never overwrites a key file`, {
    hint: 'name a new file, or move the old one away first',
    code: 'file_exists',
  });

/** A new file (0600) holding the key, on disk before this returns; an existing file is never replaced. */
export function writeKeyFile(path: string, key: Buffer): void {
  let fd: number;
  try {
    fd = openSync(path, 'wx', 0o600);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? 'error';
    if (code === 'EEXIST') throw fileExists(path);
    throw new UsageError(`cannot create ${path} (${code})`, {
      hint: 'name a file in a folder that exists and that you can write to',
      code: 'file_unwritable',
    });
  }
  try {
    writeSync(fd, `${key.toString('base64')}\n`);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  syncFolder(path);
}

/** `from` takes the place of `to`, atomically, and the folder's entry is on disk before this returns. */
export function moveKeyFile(from: string, to: string): void {
  renameSync(from, to);
  syncFolder(to);
}

/** A new or renamed file survives a crash only once its folder's entry is on disk too. */
function syncFolder(path: string): void {
  if (process.platform === 'win32') return; // folders cannot be opened for fsync there
  const fd = openSync(dirname(path), 'r');
  try {
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
}
