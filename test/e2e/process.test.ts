/**
 * What only a real akm process shows: the --version fast path of bin/akm.js, a reader that
 * leaves early (EPIPE), and several processes racing on one store. Everything else about the
 * CLI is tested in-process (test/cli/).
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { LocalService } from '../../src/service/local/service.js';
import { BIN, ROOT, Sandbox } from '../helpers/cli.js';

test('--version is answered by bin/akm.js itself, from package.json', async (t) => {
  const box = new Sandbox();
  t.teardown(() => box.cleanup());
  const { version } = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string };
  for (const flag of ['--version', '-V']) {
    const result = await box.run([flag]);
    t.is(result.code, 0);
    t.is(result.stdout, `${version}\n`);
    t.is(result.stderr, '');
  }
});

test('a reader that leaves early (akm list --json | head) ends akm quietly with exit 0', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const service = await LocalService.open({
    store: box.storePath,
    masterKey: { env: { AKM_MASTER_KEY: box.masterKey }, keychain: () => ({}) as never },
  });
  // Far more than a pipe holds (64 KiB), so akm is still writing when head is gone.
  for (let i = 0; i < 600; i++)
    await service.createKey({
      name: `k${i}`,
      type: 'access',
      expiry: { kind: 'days', days: 5 },
      owner: null,
      groups: [],
      roles: [],
    });
  await service.close();
  const piped = spawnSync(
    'bash',
    ['-c', `"$0" "$1" list --json | head -c 100 >/dev/null; echo "\${PIPESTATUS[0]}"`, process.execPath, BIN],
    {
      env: box.env(),
      encoding: 'utf8',
      timeout: 60_000,
    },
  );
  t.is(piped.stdout.trim(), '0', piped.stderr);
  t.is(piped.stderr, '', 'no EPIPE error, no stack trace');
});

// Started together, not released by a barrier: this checks the exit codes and messages of the real
// binary under contention. The race itself, with its overlap asserted, is test/service/concurrency.
test('8 akm processes started together for one user: exactly 2 keys, 6 refusals with exit 4', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['users', 'add', 'race@acme.test']);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      box.run(['create', '--name', `k${i}`, '--owner', 'race@acme.test', '--expires-in', '5', '--no-copy']),
    ),
  );
  const codes = results.map((r) => r.code).sort();
  t.log(`exit codes: ${codes.join(' ')}`);
  t.deepEqual(codes, [0, 0, 4, 4, 4, 4, 4, 4]);
  for (const r of results) t.notRegex(r.stderr, /SQLITE_BUSY|locked/);
  t.is((await box.akmJson(['list', '--owner', 'race@acme.test'])).value.length, 2);
});
