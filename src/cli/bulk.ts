/**
 * The keys a command acts on, and acting on many at once: `akm deactivate|activate|delete|extend`
 * take several `<key>` arguments, or `--stdin` (what `akm list --json` or `--ndjson` prints, or
 * one id per line). The service checks the whole set first and changes all of it or nothing.
 */
import type { Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { checkBulkSize, groupDigits, MAX_BULK_KEYS, parseKeyRefs } from '../core/keyRefs.js';
import type { BulkAction, BulkResult } from '../service/types.js';
import { confirmDestructive } from './confirm.js';
import type { Deps } from './deps.js';
import { readStdin } from './io/stdin.js';
import { plural } from './io/format.js';

export interface BulkFlags {
  stdin?: boolean;
  dryRun?: boolean;
}

/** 10,000 keys as `akm list --json` prints them fit, with room for long names and descriptions. */
const MAX_STDIN_BYTES = 32 * 1024 * 1024;

/** The keys argument and the options every bulk-capable command declares, with the same words. */
export function acceptingKeys(command: Command): Command {
  return command
    .argument('[key...]', 'access key ids, or unique key names')
    .option(
      '--stdin',
      'read the keys from stdin: akm list --json or --ndjson output, or one id per line ' +
        `(at most ${groupDigits(MAX_BULK_KEYS)})`,
    )
    .option('--dry-run', 'check every key and print what would change; change nothing');
}

/** Several keys, --stdin or --dry-run: the command answers with a bulk result, whatever the count. */
export function isBulk(args: readonly string[], flags: BulkFlags): boolean {
  return args.length > 1 || flags.stdin === true || flags.dryRun === true;
}

export async function keysFrom(args: readonly string[], flags: BulkFlags, deps: Deps, verb: string): Promise<string[]> {
  if (flags.stdin) {
    if (args.length > 0)
      throw new UsageError('give the keys as arguments or on stdin (--stdin), not both', {
        code: 'conflicting_option',
      });
    const { stdin } = deps.io.streams;
    if (stdin.isTTY)
      throw new UsageError('--stdin reads the keys from a pipe', {
        hint: `akm list --json | akm ${verb} --stdin --yes`,
        code: 'missing_input',
      });
    const text = await readStdin(stdin, 'keys', {
      maxBytes: MAX_STDIN_BYTES,
      example: `akm list --json | akm ${verb} --stdin --yes`,
    });
    return parseKeyRefs(text);
  }
  if (args.length === 0)
    throw new UsageError('missing <key>', {
      hint: `name one or more keys, or pipe them in: akm list --json | akm ${verb} --stdin --yes`,
      code: 'missing_argument',
    });
  const unique = [...new Set(args)];
  checkBulkSize(unique.length);
  return unique;
}

export interface BulkWords {
  /** "deactivate" */
  verb: string;
  /** "deactivated" */
  done: string;
  /** deletions are asked about even for one key */
  destructive: boolean;
}

/**
 * Check, confirm, act, print. A person at a terminal first sees what would change and is asked
 * (default No); without a terminal, more than one key (or any deletion) needs --yes.
 */
export async function runBulk(action: BulkAction, keys: string[], flags: BulkFlags, words: BulkWords, deps: Deps) {
  const service = await deps.service();
  const { io } = deps;
  if (keys.length === 0) {
    const nothing: BulkResult = { action: action.kind, dryRun: flags.dryRun === true, keys: [], warnings: [] };
    if (io.json) return io.outJson(nothing);
    return io.info(`no keys on stdin: nothing ${words.done}`);
  }
  const { renderBulkResult } = await import('./render/changes.js');
  if (flags.dryRun) return printResult(deps, await service.bulkKeys({ action, keys, dryRun: true }), words);
  if ((keys.length > 1 || words.destructive) && !deps.global.yes) {
    if (deps.prompter.canPrompt) {
      const plan = await service.bulkKeys({ action, keys, dryRun: true });
      io.notice(renderBulkResult(io, plan, deps.now()));
    }
    const count = keys.length === 1 ? 'this key' : `these ${keys.length} keys`;
    const verb = `${words.verb[0]!.toUpperCase()}${words.verb.slice(1)}`;
    await confirmDestructive(
      deps,
      `${verb} ${count}?${words.destructive ? ' This cannot be undone.' : ''}`,
      `nothing ${words.done}`,
    );
  }
  await printResult(deps, await service.bulkKeys({ action, keys, dryRun: false }), words);
}

async function printResult(deps: Deps, result: BulkResult, words: BulkWords): Promise<void> {
  const { io } = deps;
  for (const warning of result.warnings) io.warn(warning);
  if (io.json) return io.outJson(result);
  const { renderBulkResult } = await import('./render/changes.js');
  io.out(renderBulkResult(io, result, deps.now()));
  const changed = result.keys.filter((k) => k.changed).length;
  const same = result.keys.length - changed;
  const tail = same > 0 ? ` (${same} already so)` : '';
  io.info(
    result.dryRun
      ? `dry run: would have ${words.done} ${changed} of ${plural(result.keys.length, 'key')}${tail}; nothing changed`
      : `${words.done} ${changed} of ${plural(result.keys.length, 'key')}${tail}`,
  );
}
