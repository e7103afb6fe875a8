/**
 * HTTPS with a certificate made here by openssl: curl with --cacert and the akm CLI with
 * NODE_EXTRA_CA_CERTS talk to `akm serve --tls-cert/--tls-key`; a client that does not trust
 * the certificate gets exit 6 with a hint, never a silent downgrade.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runNode, BIN } from '../helpers/cli.js';
import { spawnServe } from '../helpers/serveProcess.js';
import { needing, CURL, OPENSSL } from '../helpers/services.js';

function makeCertificate(dir: string): { cert: string; key: string } {
  const cert = join(dir, 'cert.pem');
  const key = join(dir, 'key.pem');
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
      '-keyout',
      key,
      '-out',
      cert,
    ],
    { encoding: 'utf8', timeout: 30_000 },
  );
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  return { cert, key };
}

needing(OPENSSL, CURL)(
  'akm serve over HTTPS: curl and the akm CLI talk to it; an untrusted certificate is exit 6',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'akm-tls-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const { cert, key } = makeCertificate(dir);
    const server = await spawnServe(['--tls-cert', cert, '--tls-key', key]);
    t.teardown(server.stop);
    t.regex(server.url, /^https:\/\/127\.0\.0\.1:\d+$/);

    const curl = spawnSync(
      'curl',
      ['-sS', '--cacert', cert, '-K', '-', '--aws-sigv4', 'aws:amz:us-east-1:akm', `${server.url}/v1/keys`],
      {
        input: `user = "${server.admin.accessKeyId}:${server.admin.secretKey}"\n`,
        encoding: 'utf8',
        timeout: 20_000,
      },
    );
    t.is(curl.status, 0, curl.stderr);
    t.is(JSON.parse(curl.stdout).items[0].accessKeyId, server.admin.accessKeyId);

    const env = server.clientEnv({ AKM_CREDENTIALS: server.admin.keyString, NODE_EXTRA_CA_CERTS: cert });
    const whoami = await runNode([BIN, '--store', server.url, 'whoami', '--json'], { env });
    t.is(whoami.code, 0, whoami.stderr);
    t.like(JSON.parse(whoami.stdout), {
      actor: 'admin@acme.test',
      mode: 'remote',
      store: server.url,
      credentials: 'environment (AKM_CREDENTIALS)',
    });

    const untrusted = await runNode([BIN, '--store', server.url, 'list'], {
      env: server.clientEnv({ AKM_CREDENTIALS: server.admin.keyString }),
    });
    t.is(untrusted.code, 6);
    t.true(untrusted.stderr.includes(server.url));
    t.regex(untrusted.stderr, /NODE_EXTRA_CA_CERTS/);
    t.false(untrusted.stderr.includes(server.admin.secretKey));
  },
);

needing(OPENSSL)(
  'reproduction 12: TLS files that are not what they claim are usage errors naming the file',
  async (t) => {
    const dir = mkdtempSync(join(tmpdir(), 'akm-tls-'));
    t.teardown(() => rmSync(dir, { recursive: true, force: true }));
    const one = makeCertificate(mkdtempSync(join(dir, 'one-')));
    const two = makeCertificate(mkdtempSync(join(dir, 'two-')));
    const serve = (cert: string, key: string) =>
      runNode(
        [
          BIN,
          'serve',
          '--store',
          join(dir, 'none.db'),
          '--listen',
          '127.0.0.1:0',
          '--tls-cert',
          cert,
          '--tls-key',
          key,
        ],
        {
          env: { PATH: process.env.PATH, HOME: dir, CI: '1', NO_COLOR: '1' },
        },
      );
    for (const [cert, key, pattern] of [
      [one.key, one.key, /^error: --tls-cert: \S+one-\w+\/key\.pem is not a PEM certificate$/m],
      [one.cert, one.cert, /^error: --tls-key: \S+one-\w+\/cert\.pem is not a PEM private key$/m],
      [
        one.cert,
        two.key,
        /^error: --tls-key: \S+two-\w+\/key\.pem is not the private key of the certificate in \S+one-\w+\/cert\.pem$/m,
      ],
    ] as const) {
      const result = await serve(cert, key);
      t.is(result.code, 2, result.stderr);
      t.regex(result.stderr, pattern);
      t.notRegex(result.stderr, /unexpected error/);
    }
  },
);
