/**
 * A standard SigV4 client from outside: curl --aws-sigv4 "aws:amz:us-east-1:akm". The
 * credentials go to curl through a config file on stdin (-K -), never through its argv.
 */
import { spawn } from 'node:child_process';
import { needing, CURL } from '../helpers/services.js';
import { serverFixture } from '../helpers/server.js';

function curl(args: string[], user: string): Promise<{ code: number; status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      'curl',
      ['-sS', '-K', '-', '--max-time', '15', '-w', '\n%{http_code}', '--aws-sigv4', 'aws:amz:us-east-1:akm', ...args],
      { stdio: ['pipe', 'pipe', 'pipe'] },
    );
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    child.on('close', (code) => {
      const cut = out.lastIndexOf('\n');
      resolve({ code: code ?? 1, status: Number(out.slice(cut + 1)), body: out.slice(0, cut) + err });
    });
    child.stdin.end(`user = "${user}"\n`);
  });
}

needing(CURL)('curl --aws-sigv4 lists keys, creates a group, and reads a key by a name with a space', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  const user = `${fx.admin.accessKeyId}:${fx.admin.secretKey}`;

  const listed = await curl([`${fx.url}/v1/keys`], user);
  t.is(listed.status, 200, listed.body);
  t.deepEqual(
    JSON.parse(listed.body).items.map((k: { accessKeyId: string }) => k.accessKeyId),
    [fx.admin.accessKeyId],
  );

  const filtered = await curl([`${fx.url}/v1/keys?status=active&limit=10`], user);
  t.is(filtered.status, 200, filtered.body);

  const created = await curl(
    ['-H', 'content-type: application/json', '--data', '{"name":"Curl Group"}', `${fx.url}/v1/groups`],
    user,
  );
  t.is(created.status, 201, created.body);
  t.is(JSON.parse(created.body).name, 'Curl Group');

  await fx.remote(fx.admin).createKey({
    name: 'deploy bot',
    type: 'access',
    expiry: { kind: 'days', days: 3 },
    owner: null,
    groups: [],
    roles: [],
  });
  const shown = await curl([`${fx.url}/v1/keys/deploy%20bot`], user);
  t.is(shown.status, 200, shown.body);
  t.is(JSON.parse(shown.body).name, 'deploy bot');
});

needing(CURL)('curl with a wrong secret is refused with 401', async (t) => {
  const fx = await serverFixture();
  t.teardown(fx.close);
  // The last character changed for another (a fixed replacement is no change when the secret ends in it).
  const secret = fx.admin.secretKey;
  const wrong = `${secret.slice(0, -1)}${secret.endsWith('x') ? 'y' : 'x'}`;
  const reply = await curl([`${fx.url}/v1/keys`], `${fx.admin.accessKeyId}:${wrong}`);
  t.is(reply.status, 401);
  t.is(JSON.parse(reply.body).error.code, 'auth_failed');
});
