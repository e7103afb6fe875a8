/**
 * The yardstick for the verify benchmark: a bare node:http server that reads the request body
 * and answers a fixed JSON body of about the size of a /v1/verify answer. Prints its port.
 */
import { createServer } from 'node:http';

const BODY = JSON.stringify({
  valid: true,
  accessKeyId: 'AKMAAAAAAAAAAAAAAAAA',
  tenantId: 'bench',
  owner: null,
  name: 'key-0',
  type: 'access',
  permissions: ['audit:read', 'keys:read'],
  expiresAt: null,
});

const server = createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(BODY),
      'cache-control': 'no-store',
    });
    res.end(BODY);
  });
});
server.keepAliveTimeout = 5000;
server.listen(0, '127.0.0.1', () => {
  const address = server.address();
  process.stdout.write(`http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
