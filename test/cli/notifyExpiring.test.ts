/** The notify-expiring command with fake deps: progress goes to stderr only when stderr is a terminal. */
import test from 'ava';
import { runNotifyExpiring } from '../../src/cli/commands/notifyExpiring.js';
import type { Deps } from '../../src/cli/deps.js';
import type { AkmService, ExpiryMessage, NotifyExpiringOptions, ProgressListener } from '../../src/service/types.js';
import { testIo } from '../helpers/io.js';

function message(i: number): ExpiryMessage {
  return {
    id: i,
    accessKeyId: 'AKMAAAAAAAAAAAAAAAAA',
    keyName: 'k',
    expiresAt: '2026-05-02T09:00:00.000Z',
    recipient: `p${i}@acme.test`,
    reasons: ['administrator'],
    subject: 's',
    state: 'sent',
    attempts: 1,
    error: null,
    sentAt: '2026-05-01T09:00:00.000Z',
    retry: false,
  };
}

function harness(stderrIsTTY: boolean) {
  const { io, stdout, stderr } = testIo({ tty: { stderr: stderrIsTTY }, env: { NO_COLOR: '1' } });
  const calls: NotifyExpiringOptions[] = [];
  const service = {
    async notifyExpiring(options: NotifyExpiringOptions, onProgress?: ProgressListener) {
      calls.push(options);
      const messages = [1, 2, 3].map(message);
      messages.forEach((_, i) => onProgress?.(i + 1, 3));
      return {
        dryRun: false,
        withinDays: options.withinDays,
        checkedAt: '2026-05-01T09:00:00.000Z',
        keys: 1,
        messages,
        sent: 3,
        failed: 0,
        cancelled: 0,
      };
    },
  } as unknown as AkmService;
  const deps = { io, now: () => new Date('2026-05-01T09:00:00.000Z'), service: async () => service } as unknown as Deps;
  return { deps, calls, output: () => ({ stdout: stdout(), stderr: stderr() }) };
}

test('on a terminal, progress counts up on stderr and is cleared; stdout has only the table', async (t) => {
  const h = harness(true);
  await runNotifyExpiring({ within: '3' }, h.deps);
  const { stdout, stderr } = h.output();
  t.deepEqual(h.calls, [{ withinDays: 3, dryRun: false }]);
  t.true(stderr.startsWith('\rsending 1/3…\rsending 2/3…\rsending 3/3…\r\u001b[K'));
  t.regex(stderr, /sent 3, failed 0, cancelled 0/);
  t.regex(stdout, /^RECIPIENT\s+KEY/);
  t.false(stdout.includes('sending'));
});

test('piped, there is no progress', async (t) => {
  const h = harness(false);
  await runNotifyExpiring({ within: '2' }, h.deps);
  t.false(h.output().stderr.includes('sending'));
});
