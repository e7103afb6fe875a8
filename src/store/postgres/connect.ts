/**
 * From `postgres://user@host:port/db` to the driver's connection settings. The password comes,
 * as libpq does it, from the URL, else PGPASSWORD, else the pgpass file; it is read when a
 * connection asks for it and never becomes part of anything akm prints.
 */
import { homedir, userInfo } from 'node:os';
import type { Client, ClientConfig, PoolConfig } from 'pg';
import { UsageError } from '../../core/errors.js';
import { displayStore } from '../../core/storeUrl.js';
import { pgpassLookup } from './pgpass.js';

export interface PostgresTarget {
  host: string;
  port: number;
  database: string;
  user: string;
  /** from the URL; undefined when it carries none */
  password: string | undefined;
  ssl: PoolConfig['ssl'];
  /** ?schema=NAME: akm's tables live in this (existing) schema instead of the user's default */
  schema: string | undefined;
  /** the URL without its password, for messages */
  display: string;
}

const SSL_MODES: Record<string, PoolConfig['ssl']> = {
  disable: false,
  // libpq's "require" encrypts without checking the certificate; verify-full checks both.
  require: { rejectUnauthorized: false },
  'verify-full': true,
};

const KNOWN_PARAMETERS = new Set(['sslmode', 'host', 'schema']);

function osUser(): string {
  try {
    return userInfo().username;
  } catch {
    return 'postgres';
  }
}

export function parsePostgresUrl(text: string, env: NodeJS.ProcessEnv): PostgresTarget {
  const display = displayStore(text);
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError(`cannot read the store URL ${display}`, {
      hint: 'use postgres://USER@HOST:PORT/DATABASE',
      code: 'store_url_invalid',
    });
  }
  const unknown = [...url.searchParams.keys()].find((name) => !KNOWN_PARAMETERS.has(name));
  if (unknown !== undefined)
    throw new UsageError(`the store URL has an unknown parameter "${unknown.slice(0, 30)}"`, {
      hint: 'akm reads sslmode, host and schema',
      code: 'store_url_invalid',
    });
  const decode = (value: string) => (value === '' ? undefined : decodeURIComponent(value));
  const database = decode(url.pathname.replace(/^\//, ''));
  const sslmode = url.searchParams.get('sslmode') ?? env.PGSSLMODE ?? 'disable';
  if (!(sslmode in SSL_MODES))
    throw new UsageError(`unsupported sslmode "${sslmode.slice(0, 20)}" in the store URL`, {
      hint: 'use sslmode=disable, require or verify-full',
      code: 'store_url_invalid',
    });
  const user = decode(url.username) ?? env.PGUSER ?? osUser();
  const schema = url.searchParams.get('schema') ?? undefined;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema))
    throw new UsageError(`the schema "${schema.slice(0, 70)}" in the store URL is not a plain lower-case name`, {
      hint: 'use letters, digits and _ (e.g. ?schema=akm)',
      code: 'store_url_invalid',
    });
  return {
    // ?host= names a Unix socket folder, as libpq allows.
    host: url.searchParams.get('host') ?? decode(url.hostname) ?? env.PGHOST ?? 'localhost',
    port: Number(url.port || env.PGPORT || 5432),
    database: database ?? env.PGDATABASE ?? user,
    user,
    password: decode(url.password),
    ssl: SSL_MODES[sslmode],
    schema,
    display,
  };
}

/**
 * The driver's settings for one connection; `password` is a function, so it is looked up per
 * connection and kept out of the settings object.
 */
export function clientConfig(target: PostgresTarget, env: NodeJS.ProcessEnv): ClientConfig {
  return {
    host: target.host,
    port: target.port,
    database: target.database,
    user: target.user,
    // undefined (no password anywhere) lets the server's challenge fail as "no password given".
    password: (async () =>
      target.password ??
      env.PGPASSWORD ??
      pgpassLookup(env.PGPASSFILE ?? `${env.HOME || homedir()}/.pgpass`, target)) as () => Promise<string>,
    ssl: target.ssl,
    connectionTimeoutMillis: 10_000,
    application_name: 'akm',
    ...(target.schema ? { options: `-c search_path=${target.schema}` } : {}),
  };
}

/** The pool's settings: `max` connections, each as `clientConfig` makes it. */
export function poolConfig(target: PostgresTarget, env: NodeJS.ProcessEnv, max: number): PoolConfig {
  return { ...clientConfig(target, env), max, idleTimeoutMillis: 30_000 };
}

/**
 * The driver's Client, closing its socket when connecting fails. pg leaves the socket open when
 * it gives up by itself (no password to answer the server's challenge with, say): the server
 * then waits for its authentication timeout, a minute, and akm could not exit before it.
 */
export function closingOnFailure(PgClient: typeof Client): typeof Client {
  return class ClosingClient extends PgClient {
    override connect(): Promise<Client>;
    override connect(callback: (error: Error | null) => void): void;
    override connect(callback?: (error: Error | null) => void): Promise<Client> | void {
      const close = () => this.connection.stream.destroy();
      if (!callback)
        return super.connect().catch((error: unknown) => {
          close();
          throw error;
        });
      super.connect((error: Error | null) => {
        if (error) close();
        callback(error);
      });
    }
  };
}
