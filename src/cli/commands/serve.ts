/**
 * akm serve: the store as a JSON HTTP API for remote CLIs and verifying services. Runs until
 * SIGTERM or SIGINT, then stops accepting, lets in-flight requests finish and exits 0.
 * stdout gets the URL (data: with --listen …:0 it says which port); stderr gets one log line
 * per request: JSON, or text on a terminal.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { mailSettingsFromEnv } from '../../notify/smtp.js';
import { DEFAULTS } from '../../server/defaults.js';
import { DEFAULT_LISTEN, parseListen } from '../../server/listen.js';
import { loggerFor, type LogFormat } from '../../server/log.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';

export interface ServeOptions {
  listen: string;
  tlsCert?: string;
  tlsKey?: string;
  insecureHttp?: boolean;
  verifyRate?: string;
  verifyBurst?: string;
  trustedProxy?: string[];
  metricsListen?: string;
  jobInterval?: string;
  logFormat?: LogFormat;
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

export function registerServe(program: Command, ctx: CommandContext): void {
  program
    .command('serve')
    .description('serve the store over HTTPS: SigV4-signed API for remote akm, /v1/verify for services')
    .addOption(new Option('--listen <host:port>', 'address to listen on').default(DEFAULT_LISTEN))
    .option('--tls-cert <file>', 'PEM certificate (chain) for HTTPS')
    .option('--tls-key <file>', 'PEM private key for HTTPS')
    .option('--insecure-http', 'allow plain HTTP on a non-loopback address (only behind a TLS-terminating proxy)')
    .option('--verify-rate <n>', `/v1/verify requests per second per client (default ${DEFAULTS.verifyRate})`)
    .option('--verify-burst <n>', `/v1/verify burst per client (default ${DEFAULTS.verifyBurst})`)
    .option(
      '--trusted-proxy <cidr>',
      'a proxy (IP or CIDR, IPv4 or IPv6) whose X-Forwarded-For names the client; repeatable',
      collect,
    )
    .option('--metrics-listen <host:port>', 'serve GET /metrics on this address (plain HTTP) instead of --listen')
    .option(
      '--job-interval <seconds>',
      `how often the expiry mail job runs (default ${DEFAULTS.expiryJobIntervalMs / 1000}); ` +
        'of several servers on one PostgreSQL store, only the job leader runs it',
    )
    .addOption(
      new Option('--log-format <format>', 'log lines as json or text (default: text on a terminal, else json)').choices(
        ['json', 'text'],
      ),
    )
    .addHelpText(
      'after',
      `${examples(
        'akm serve --store /srv/akm/akm.db --listen 0.0.0.0:8443 --tls-cert cert.pem --tls-key key.pem',
        'akm serve --listen 127.0.0.1:7860          # loopback: plain HTTP is fine',
        'akm serve --listen 10.0.0.5:7860 --insecure-http --trusted-proxy 10.0.0.0/24 --trusted-proxy fd00::/8',
        'AKM_MASTER_KEY_FILE=/etc/akm/master.key akm serve --store /srv/akm/akm.db --listen 127.0.0.1:7860 \\\n' +
          '      2>>/var/log/akm.jsonl',
        'DATABASE_URL=postgres://akm@db.internal/akm akm serve --store-env DATABASE_URL \\\n' +
          '      --listen 10.0.0.5:8443 --tls-cert cert.pem --tls-key key.pem --metrics-listen 10.0.1.5:9464',
      )}
Unsigned, for load balancers and Prometheus: GET /healthz (the process is up), GET /readyz (the
store answers and its schema is current) and GET /metrics (Prometheus text format; on
--metrics-listen's address when given). Every answer carries x-request-id (the client's, when
sane, else a new one), which the request's log line repeats.
`,
    )
    .action(async (flags: ServeOptions, command: Command) => runServe(flags, ctx.deps(command)));
}

function positive(text: string | undefined, flag: string): number | undefined {
  if (text === undefined) return undefined;
  if (!/^\d+(\.\d+)?$/.test(text.trim()) || Number(text) <= 0)
    throw new UsageError(`${flag} needs a positive number, got "${text.slice(0, 20)}"`);
  return Number(text);
}

/**
 * Resolves on the first SIGTERM or SIGINT, and stops listening then (a second one kills at
 * once, as an impatient operator expects) or on `dispose`.
 */
function stopSignal(): { stopped: Promise<NodeJS.Signals>; dispose(): void } {
  let resolve: (signal: NodeJS.Signals) => void = () => {};
  const stopped = new Promise<NodeJS.Signals>((r) => (resolve = r));
  const stop = (signal: NodeJS.Signals) => {
    dispose();
    resolve(signal);
  };
  const dispose = () => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  return { stopped, dispose };
}

export async function runServe(options: ServeOptions, deps: Deps): Promise<void> {
  const { settings, io } = deps;
  if (settings.remote)
    throw new UsageError('akm serve serves a local store: a SQLite file or a PostgreSQL database', {
      hint: 'pass --store /path/to/akm.db, or --store-env VAR naming a variable that holds a postgres:// URL',
    });
  if (!!options.tlsCert !== !!options.tlsKey) throw new UsageError('--tls-cert and --tls-key go together');
  const verifyRate = positive(options.verifyRate, '--verify-rate');
  const verifyBurst = positive(options.verifyBurst, '--verify-burst');
  const jobSeconds = positive(options.jobInterval, '--job-interval');
  // Listening for the stop signal before the URL is printed: a supervisor may send SIGTERM as
  // soon as it reads it, and an unhandled one would kill the server in the middle of starting.
  const signal = stopSignal();
  try {
    // Loaded here, not at start-up: no other command needs the server.
    const { startServer } = await import('../../server/server.js');
    const running = await startServer({
      store: settings.store,
      env: deps.env,
      masterKey: { file: settings.masterKeyFile, env: deps.env, keychain: deps.keychain },
      listen: parseListen(options.listen),
      ...(options.tlsCert && options.tlsKey ? { tls: { certFile: options.tlsCert, keyFile: options.tlsKey } } : {}),
      insecureHttp: options.insecureHttp === true,
      // A person watching a terminal reads text; a file, a pipe or journald gets JSON.
      log: loggerFor(options.logFormat ?? (io.terminal.stderrIsTTY ? 'text' : 'json'), io.streams.stderr, deps.now),
      verifyRate,
      verifyBurst,
      trustedProxies: options.trustedProxy ?? [],
      debug: deps.env.AKM_DEBUG === '1',
      mail: mailSettingsFromEnv(deps.env),
      ...(options.metricsListen ? { metricsListen: parseListen(options.metricsListen, '--metrics-listen') } : {}),
      ...(jobSeconds ? { expiryJobIntervalMs: Math.max(1, jobSeconds) * 1000 } : {}),
    });
    if (io.json) io.outJson({ url: running.url, store: running.backend.store.location });
    else io.out(running.url);
    await signal.stopped;
    await running.close();
  } finally {
    signal.dispose();
  }
}
