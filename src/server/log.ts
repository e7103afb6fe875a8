/**
 * Structured logs, one event per line on stderr: JSON objects, so `jq` and log shippers read
 * them, or for a person at a terminal the same fields as `time event key=value` (logfmt).
 * Callers pass only what is safe to keep: method, path, status, timing, client address, the
 * access key id. Never headers, bodies, signatures or secrets.
 */
import { printable } from '../core/validate.js';

export type LogFormat = 'json' | 'text';
export type LogLine = Record<string, string | number | boolean | null | undefined>;
export type Logger = (line: LogLine) => void;

/**
 * Lines logged during one turn of the event loop are written together, in one write: under
 * load that is one system call for many requests instead of one each. The pending write runs
 * before the process can exit, so nothing logged is lost on a clean stop.
 */
function batchedWriter(stream: NodeJS.WritableStream): (text: string) => void {
  let pending = '';
  const flush = () => {
    const text = pending;
    pending = '';
    stream.write(text);
  };
  return (text) => {
    if (pending === '') setImmediate(flush);
    pending += text;
  };
}

export function jsonLogger(stream: NodeJS.WritableStream, now: () => Date = () => new Date()): Logger {
  const write = batchedWriter(stream);
  return (line) => {
    // Spliced rather than spread into a new object: this runs for every request.
    const fields = JSON.stringify(line);
    write(`{"time":"${now().toISOString()}"${fields === '{}' ? '}' : `,${fields.slice(1)}`}\n`);
  };
}

/**
 * `18:51:56 listening url=http://127.0.0.1:7860 tls=false`: the local time of day, the event,
 * then each field. Every value is made printable first: a request's path or user agent comes
 * from whoever reaches the port, and must not move the cursor of the terminal showing it.
 */
export function textLogger(stream: NodeJS.WritableStream, now: () => Date = () => new Date()): Logger {
  const write = batchedWriter(stream);
  return ({ event, ...fields }) => {
    let text = `${now().toTimeString().slice(0, 8)} ${logfmtValue(event ?? '-')}`;
    for (const [name, value] of Object.entries(fields))
      if (value !== undefined) text += ` ${name}=${logfmtValue(value)}`;
    write(`${text}\n`);
  };
}

function logfmtValue(value: string | number | boolean | null): string {
  const text = printable(String(value), 500);
  return text === '' || /[\s"=]/.test(text) ? JSON.stringify(text) : text;
}

export function loggerFor(format: LogFormat, stream: NodeJS.WritableStream, now?: () => Date): Logger {
  return format === 'text' ? textLogger(stream, now) : jsonLogger(stream, now);
}

/** What an unexpected error may show in the log: its class and message, the stack only when debugging. */
export function describeError(error: unknown, debug: boolean): LogLine {
  if (!(error instanceof Error)) return { error: 'non-error thrown' };
  return {
    error: `${error.name}: ${error.message}`.slice(0, 500),
    ...(debug && error.stack ? { stack: error.stack } : {}),
  };
}
