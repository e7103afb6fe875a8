/**
 * SIGTERM while requests are in flight: the server stops accepting, every request it had
 * accepted finishes with its real answer (and its change committed), then it exits 0.
 */
import test from 'ava';
import Database from 'better-sqlite3';
import { request } from 'node:http';
import { until } from '../helpers/children.js';
import { spawnServe } from '../helpers/serveProcess.js';
import { signedHeaders } from '../helpers/server.js';

interface Pending {
  finish(): void;
  reply: Promise<number>;
}

/**
 * A signed POST that is surely in the server's hands before its body is sent: it asks for
 * "100 Continue", which the server sends once it has parsed the request. The body follows on
 * finish().
 */
function slowPost(
  url: string,
  key: { accessKeyId: string; secretKey: string },
  path: string,
  body: string,
): Promise<Pending> {
  return new Promise((ready, fail) => {
    const target = new URL(url);
    const headers = signedHeaders(url, key, {
      method: 'POST',
      path,
      body,
      headers: { 'x-akm-nonce': `slow-${Math.random()}` },
    });
    const req = request({
      host: target.hostname,
      port: target.port,
      method: 'POST',
      path,
      headers: { ...headers, 'content-length': String(Buffer.byteLength(body)), expect: '100-continue' },
      agent: false,
    });
    const reply = new Promise<number>((resolve, reject) => {
      req.on('response', (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
    });
    req.on('continue', () => ready({ finish: () => req.end(body), reply }));
    req.on('error', fail);
    req.flushHeaders();
  });
}

test('SIGTERM with requests in flight: none is lost, exit 0', async (t) => {
  const server = await spawnServe();
  t.teardown(server.stop);
  const count = 25;
  const pending = await Promise.all(
    Array.from({ length: count }, (_, i) =>
      slowPost(
        server.url,
        server.admin,
        '/v1/users',
        JSON.stringify({ email: `user${i}@acme.test`, name: `User ${i}` }),
      ),
    ),
  );
  server.child.process.kill('SIGTERM');
  // (Each of them waits, half sent, inside the server.)
  // New connections are refused once the server stops listening…
  const refused = await until(
    () =>
      new Promise<boolean>((resolve) => {
        const req = request(
          { host: '127.0.0.1', port: new URL(server.url).port, path: '/healthz', agent: false },
          (res) => {
            res.resume();
            resolve(false);
          },
        );
        req.on('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
        req.end();
      }),
    'the server to stop listening',
  );
  t.true(refused);
  // …while the accepted ones complete, with their real answers.
  for (const p of pending) p.finish();
  const statuses = await Promise.all(pending.map((p) => p.reply));
  t.deepEqual(statuses, Array(count).fill(201));

  const { code, signal } = await server.child.exited;
  t.is(code, 0, server.child.stderr());
  t.is(signal, null);
  t.true(server.child.stderr().includes('"event":"stopped"'));
  const db = new Database(server.store.path, { readonly: true });
  const users = (db.prepare("SELECT count(*) AS n FROM users WHERE email LIKE 'user%'").get() as { n: number }).n;
  db.close();
  t.is(users, count);
});
