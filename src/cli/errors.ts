/**
 * Turning any failure into one line (plus a hint) on stderr and an exit code. Stacks only
 * with AKM_DEBUG=1. Under --json the same facts as {"error":{code,message,hint}}.
 */
import { CommanderError } from 'commander';
import { AkmError, ExitCode, isErrorCode, UsageError, type ErrorCode } from '../core/errors.js';
import { printable } from '../core/validate.js';

/** A command printed its help instead of running (a group without a command): exit 2, nothing more to say. */
export class HelpShownError extends UsageError {}

/** The store maps its own failures (SQLite, PostgreSQL) to AkmErrors; anything else left is unexpected. */
export function toAkmError(error: unknown): AkmError {
  if (error instanceof AkmError) return error;
  if (error instanceof CommanderError) {
    return new UsageError(error.message.replace(/^error:\s*/i, ''), {
      hint: 'see akm --help',
      code: commanderCode(error.code),
    });
  }
  const message = error instanceof Error ? error.message : String(error);
  return new AkmError(`unexpected error: ${message}`, ExitCode.unexpected, {
    code: 'unexpected',
    hint: 'run again with AKM_DEBUG=1 for details, and report it if it persists',
  });
}

/** Commander's "commander.unknownOption" becomes "unknown_option": one style for every code. */
export function commanderCode(code: string): ErrorCode {
  const snake = code.replace(/^commander\./, '').replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);
  return isErrorCode(snake) ? snake : 'usage';
}

export function reportError(
  error: AkmError,
  original: unknown,
  stderr: NodeJS.WritableStream,
  json: boolean,
  env: NodeJS.ProcessEnv,
  runnable: (hint: string) => string = (hint) => hint,
): void {
  const message = printable(error.message.split('\n')[0] ?? '', 500);
  const hint = error.hint === undefined ? undefined : runnable(error.hint);
  if (json) {
    const body: Record<string, string> = { code: error.code, message };
    if (hint) body.hint = hint;
    stderr.write(`${JSON.stringify({ error: body })}\n`);
  } else if (error instanceof HelpShownError) {
    // the help on stderr said it all
  } else if (error.code === 'cancelled') {
    // Saying no is not a failure to report: "not deleted", and exit 130.
    stderr.write(`${message}\n`);
  } else {
    stderr.write(`error: ${message}\n`);
    if (hint) stderr.write(`hint: ${printable(hint, 500)}\n`);
  }
  if (env.AKM_DEBUG === '1' && original instanceof Error && original.stack) stderr.write(`${original.stack}\n`);
}
