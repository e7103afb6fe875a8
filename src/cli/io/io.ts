/**
 * The streams of one run. stdout carries data only (tables, JSON, key strings); everything
 * meant for the person — progress, warnings, notices, errors — goes to stderr.
 */
import { styleFor, type ChalkClass, type Style } from './style.js';
import type { Terminal } from './terminal.js';
import { wrapText } from './wrap.js';

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
    if (!this.options.quiet) this.say(text);
  }

  /** Warnings are never silenced: they say something went differently than asked. */
  warn(text: string): void {
    this.say(`${this.errStyle.yellow('warning:')} ${text}`);
  }

  /** Must-read notices; never silenced. */
  notice(text: string): void {
    this.say(text);
  }

  /**
   * That a secret is shown only this once. --quiet leaves it out where it would tell nobody
   * anything: the secret is on the screen (stdout is a terminal), or no person reads stderr (a
   * script took stdout). It stays when a person watches stderr while the secret goes elsewhere
   * (`akm create -q … > file`): only this line tells them it will not be shown again.
   */
  shownOnce(text: string): void {
    const { quiet } = this.options;
    if (quiet && (this.terminal.stdoutIsTTY || !this.terminal.stderrIsTTY)) return;
    this.say(text);
  }

  /** A message for the person: wrapped at word boundaries on a terminal, one line per message when piped. */
  private say(text: string): void {
    const width = this.terminal.stderrColumns;
    this.streams.stderr.write(`${width === undefined ? text : wrapText(text, width)}\n`);
  }
}
