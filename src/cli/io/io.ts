/**
 * The streams of one run. stdout carries data only (tables, JSON, key strings); everything
 * meant for the person — progress, warnings, notices, errors — goes to stderr.
 */
import { styleFor, type ChalkClass, type Style } from './style.js';
import type { Terminal } from './terminal.js';

/** An output stream and what it is connected to: process.stdout fits, and so does a test's capture. */
export interface OutputStream extends NodeJS.WritableStream {
  isTTY?: boolean;
  /** the terminal's width, when it is one */
  columns?: number;
}

export interface InputStream extends NodeJS.ReadableStream {
  isTTY?: boolean;
}

export interface Streams {
  stdout: OutputStream;
  stderr: OutputStream;
  stdin: InputStream;
  /** whether stdin is a terminal, when that is known without making the stream (main.ts) */
  stdinIsTTY?: boolean;
}

export interface OutputOptions {
  json: boolean;
  quiet: boolean;
  /** tables show every column in full, even on a narrow terminal */
  wide?: boolean;
}

export class Io {
  readonly style: Style;
  readonly errStyle: Style;

  constructor(
    readonly streams: Streams,
    readonly terminal: Terminal,
    readonly options: OutputOptions,
    chalk?: ChalkClass,
  ) {
    this.style = styleFor(chalk, terminal.color);
    this.errStyle = styleFor(chalk, terminal.stderrColor);
  }

  get json(): boolean {
    return this.options.json;
  }

  /** Data, exactly as given plus a newline. */
  out(text: string): void {
    this.streams.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
  }

  /**
   * A piece of a long output. Waits when the reader is slower than us (a pipe into `jq`):
   * pipe writes are asynchronous, and without this the whole output would pile up in memory.
   */
  async stream(text: string): Promise<void> {
    const { stdout } = this.streams;
    if (!stdout.write(text)) await new Promise<void>((resolve) => stdout.once('drain', () => resolve()));
  }

  /** One JSON document on stdout. */
  outJson(value: unknown): void {
    this.streams.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Progress and confirmations; silenced by --quiet. */
  info(text: string): void {
    if (!this.options.quiet) this.streams.stderr.write(`${text}\n`);
  }

  /** Warnings are never silenced: they say something went differently than asked. */
  warn(text: string): void {
    this.streams.stderr.write(`${this.errStyle.yellow('warning:')} ${text}\n`);
  }

  /** Must-read notices (the secret is shown once); never silenced. */
  notice(text: string): void {
    this.streams.stderr.write(`${text}\n`);
  }
}
