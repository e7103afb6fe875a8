/**
 * A real `akm serve` in-process on 127.0.0.1 (port 0) over a real temp store (SQLite unless
 * the engine says otherwise), with an admin
 * key minted through the local service, and remote clients signing as any key.
 */
import aws4 from 'aws4';
import { request as httpRequest } from 'node:http';
import type { LogLine } from '../../src/server/log.js';
import { startServer, type RunningServer, type ServeOptions } from '../../src/server/server.js';
import { RemoteService } from '../../src/remote/service.js';
import type { IssuedKey } from '../../src/service/types.js';
import type { Engine } from './engines.js';
import { adminKey, tempStore, type TempStore } from './store.js';

export interface ServerFixture {
  store: TempStore;
  server: RunningServer;
  url: string;
  admin: IssuedKey;
  logs: LogLine[];
  remote(key: { accessKeyId: string; secretKey: string }, tenantId?: string): RemoteService;
  close(): Promise<void>;
}

export async function serverFixture(
  options: Partial<ServeOptions> = {},
  engine: Engine = 'sqlite',
): Promise<ServerFixture> {
  const store = await tempStore(engine, 'akm-server-');
  const admin = await adminKey(store);
  const logs: LogLine[] = [];
  const server = await startServer({
    store: store.location,
    masterKey: store.masterKeyOptions,
    listen: { host: '127.0.0.1', port: 0 },
    log: (line) => logs.push(line),
    ...options,
  });
  return {
    store,
    server,
    url: server.url,
    admin,
    logs,
    remote: (key, tenantId) =>
      new RemoteService({
        baseUrl: server.url,
        credentials: { accessKeyId: key.accessKeyId, secretAccessKey: key.secretKey },
        ...(tenantId ? { tenantId } : {}),
      }),
    close: async () => {
      await server.close();
      await store.cleanup();
    },
  };
}

/**
 * A tenant-level ReadOnly key made through the local service, as the operator beside the server
 * would; `madeAt` dates it back (a one-day key made two days ago has expired, genuinely).
 */
export async function localKey(
  fx: ServerFixture,
  name: string,
  options: { days?: number; madeAt?: Date } = {},
): Promise<IssuedKey> {
  const local = await fx.store.open(options.madeAt ? () => options.madeAt! : undefined);
  try {
    return await local.createKey({
      name,
      type: 'access',
      expiry: { kind: 'days', days: options.days ?? 30 },
      owner: null,
      groups: [],
      roles: ['ReadOnly'],
    });
  } finally {
    await local.close();
  }
}

export function expiredKey(fx: ServerFixture, name: string): Promise<IssuedKey> {
  return localKey(fx, name, { days: 1, madeAt: new Date(Date.now() - 2 * 86_400_000) });
}

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: any;
}

/** One HTTP request with full control over every byte (for tampering and replay tests). */
export function rawRequest(
  url: string,
  options: {
    method?: string;
    path: string;
    headers?: Record<string, string>;
    body?: string | Buffer;
    localAddress?: string;
  },
): Promise<RawReply> {
  return new Promise((resolve, reject) => {
    const target = new URL(url);
    const req = httpRequest(
      {
        host: target.hostname,
        port: target.port,
        method: options.method ?? 'GET',
        path: options.path,
        headers: options.headers,
        localAddress: options.localAddress,
        agent: false,
      },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (body += d));
        res.on('end', () => {
          let json: unknown = null;
          try {
            json = JSON.parse(body);
          } catch {
            // not JSON
          }
          resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json });
        });
      },
    );
    req.setTimeout(15_000, () => req.destroy(new Error('request timed out')));
    req.on('error', reject);
    req.end(options.body);
  });
}

/** SigV4 headers for a request, as any standard client would make them (optionally at another time). */
/** POST /v1/verify with a JSON body, as a verifying service would. */
export function postVerify(url: string, body: unknown, localAddress?: string): Promise<RawReply> {
  return rawRequest(url, {
    method: 'POST',
    path: '/v1/verify',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
    ...(localAddress ? { localAddress } : {}),
  });
}

export function signedHeaders(
  url: string,
  key: { accessKeyId: string; secretKey: string },
  options: { method?: string; path: string; body?: string; headers?: Record<string, string>; date?: Date },
): Record<string, string> {
  const target = new URL(url);
  const headers: Record<string, string> = { ...(options.headers ?? {}) };
  if (options.body !== undefined) headers['content-type'] ??= 'application/json';
  if (options.date) headers['X-Amz-Date'] = options.date.toISOString().replace(/[:-]|\.\d{3}/g, '');
  const signed = aws4.sign(
    {
      host: target.host,
      method: options.method ?? 'GET',
      path: options.path,
      headers,
      body: options.body ?? '',
      service: 'akm',
      region: 'eu-west-1',
    },
    { accessKeyId: key.accessKeyId, secretAccessKey: key.secretKey },
  );
  return Object.fromEntries(Object.entries(signed.headers ?? {}).map(([k, v]) => [k, String(v)]));
}
