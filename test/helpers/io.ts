/**
 * Streams for in-process runs, after cli/cli's iostreams.Test(): stdin from a string, stdout
 * and stderr captured, and each one a terminal or not, with a chosen width.
 */
import { Readable, Writable } from 'node:stream';
import { Io, type Streams } from '../../src/cli/io/io.js';
import type { ChalkClass } from '../../src/cli/io/style.js';
import { detectTerminal } from '../../src/cli/io/terminal.js';

export interface TerminalShape {
  /** true: stdin, stdout and stderr are all terminals; or say which */
  tty?: boolean | { stdin?: boolean; stdout?: boolean; stderr?: boolean };
  /** the terminal width (columns) seen on stdout and stderr; Node leaves it unset when piped */
  columns?: number;
}

export interface CapturedStreams extends Streams {
  stdoutText(): string;
  stderrText(): string;
}

class Capture extends Writable {
  private text = '';
  constructor(
    readonly isTTY: boolean,
    readonly columns: number | undefined,
  ) {
    super({ decodeStrings: false });
  }

  override _write(chunk: string | Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }

  captured(): string {
    return this.text;
  }
}

function ttyFlags(shape: TerminalShape): { stdin: boolean; stdout: boolean; stderr: boolean } {
  const { tty = false } = shape;
  if (typeof tty === 'boolean') return { stdin: tty, stdout: tty, stderr: tty };
  return { stdin: tty.stdin === true, stdout: tty.stdout === true, stderr: tty.stderr === true };
}

export function testStreams(options: TerminalShape & { input?: string } = {}): CapturedStreams {
  const tty = ttyFlags(options);
  const stdin = Object.assign(Readable.from(options.input ? [Buffer.from(options.input)] : []), { isTTY: tty.stdin });
  const stdout = new Capture(tty.stdout, tty.stdout ? (options.columns ?? 80) : undefined);
  const stderr = new Capture(tty.stderr, tty.stderr ? (options.columns ?? 80) : undefined);
  return { stdin, stdout, stderr, stdoutText: () => stdout.captured(), stderrText: () => stderr.captured() };
}

/** An Io over captured streams, for rendering tests that need no program around them. */
export function testIo(
  options: TerminalShape & {
    json?: boolean;
    quiet?: boolean;
    wide?: boolean;
    env?: NodeJS.ProcessEnv;
    chalk?: ChalkClass;
  } = {},
): { io: Io; stdout(): string; stderr(): string } {
  const streams = testStreams(options);
  const terminal = detectTerminal({ ...streams, env: options.env ?? {}, noColorFlag: false, noInputFlag: false });
  const outputs = { json: options.json === true, quiet: options.quiet === true, wide: options.wide === true };
  const io = new Io(streams, terminal, outputs, options.chalk);
  return { io, stdout: streams.stdoutText, stderr: streams.stderrText };
}
