/**
 * Structured logs: one JSON object per line on stderr, so `jq` and log shippers read them.
 * Callers pass only what is safe to keep: method, path, status, timing, client address, the
 * access key id. Never headers, bodies, signatures or secrets.
 */
export type LogLine = Record<string, string | number | boolean | null | undefined>;
export type Logger = (line: LogLine) => void;

/**
 * Lines logged during one turn of the event loop are written together, in one write: under
 * load that is one system call for many requests instead of one each. The pending write runs
 * before the process can exit, so nothing logged is lost on a clean stop.
 */
export function jsonLogger(stream: NodeJS.WritableStream, now: () => Date = () => new Date()): Logger {
  let pending = '';
  const flush = () => {
    const text = pending;
    pending = '';
    stream.write(text);
  };
  return (line) => {
    if (pending === '') setImmediate(flush);
    // Spliced rather than spread into a new object: this runs for every request.
    const fields = JSON.stringify(line);
    pending += `{"time":"${now().toISOString()}"${fields === '{}' ? '}' : `,${fields.slice(1)}`}\n`;
  };
}

/** What an unexpected error may show in the log: its class and message, the stack only when debugging. */
export function describeError(error: unknown, debug: boolean): LogLine {
  if (!(error instanceof Error)) return { error: 'non-error thrown' };
  return {
    error: `${error.name}: ${error.message}`.slice(0, 500),
    ...(debug && error.stack ? { stack: error.stack } : {}),
  };
}
