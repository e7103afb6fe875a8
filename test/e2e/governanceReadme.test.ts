/**
 * The README's governance walkthrough, run as written: the four lines of its first block, typed
 * into a shell in a real terminal (tmux) with the real `akm` on PATH, against a store holding
 * keys made 120 days ago (one used since, one not) and one made today. An administrator
 * previews a 90-day policy, stages it for next month, reads the report with its chart, and
 * deactivates every active key unused for 90 days in one command.
 */
import { chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setLastUsed } from '../../src/store/keys.js';
import { openStore } from '../../src/store/open.js';
import { BIN, Sandbox } from '../helpers/cli.js';
import { ROOT } from '../helpers/paths.js';
import { DAY } from '../helpers/service.js';
import { needing, TMUX } from '../helpers/services.js';
import { TmuxSession } from '../helpers/tmux.js';

/** The shell lines of the first block of the README's section on governance. */
function walkthrough(): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const section = readme.slice(readme.indexOf('## Governance: policy, report, bulk operations'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)![1]!;
  return block.trim().split('\n');
}

needing(TMUX)('the README walkthrough: preview, stage, report with its chart, deactivate the unused', async (t) => {
  const lines = walkthrough();
  t.deepEqual(
    lines.map((l) => l.split(' ').slice(0, 3).join(' ')),
    ['akm policy set', 'akm policy set', 'akm report', 'akm list --unused-for'],
  );
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const longAgo = () => new Date(Date.now() - 120 * DAY);
  for (const name of ['old-unused', 'old-used'])
    await box.akm(['create', '--name', name, '--tenant-level', '--expires-in', '365', '--no-copy'], { now: longAgo });
  await box.akm(['create', '--name', 'new', '--tenant-level', '--expires-in', '30', '--no-copy']);
  const used = (await box.akmJson(['show', 'old-used'])).value.accessKeyId as string;
  const store = await openStore(box.storePath);
  await store.write(null, (q) => setLastUsed(q, used, new Date(Date.now() - 3 * DAY).toISOString()));
  await store.close();

  // `akm` on PATH, as the README's install makes it.
  const bin = join(box.home, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'akm'), `#!/bin/sh\nexec '${process.execPath}' '${BIN}' "$@"\n`);
  chmodSync(join(bin, 'akm'), 0o755);
  const script = join(box.home, 'walkthrough.sh');
  writeFileSync(script, `set -e\n${lines.map((l) => `echo "+ ${l.replace(/"/g, '\\"')}"\n${l}`).join('\n')}\n`);
  const env = box.env({ CI: undefined, TERM: 'xterm-256color', PATH: `${bin}:${process.env.PATH}` });
  const tty = new TmuxSession(box.home, env, ['sh', script], { columns: 150, rows: 50 });
  t.teardown(() => tty.kill());
  t.is(await tty.exitCode(40_000), 0, tty.screen());
  const screen = tty.screen();
  if (process.env.AKM_SHOW_SCREEN) t.log(screen);

  t.regex(screen, /dry run: 2 keys would break this policy; nothing changed, nobody told/);
  t.regex(screen, /enforced from .*\(until then: warnings only\)/);
  t.regex(screen, /FINDING\s+KEYS/);
  t.regex(screen, /active keys expiring per week from 00:00 UTC, next 12 weeks \(3 keys in the report\)/);
  t.regex(screen, /█/, 'the chart, in blocks');
  t.regex(screen, /deactivated 1 of 1 key\b/);

  const keys = (await box.akmJson(['list'])).value as Array<{ name: string; status: string }>;
  t.deepEqual(
    keys.map((k) => [k.name, k.status]),
    [
      ['old-unused', 'inactive'],
      ['old-used', 'active'],
      ['new', 'active'],
    ],
  );
  const policy = (await box.akmJson(['policy', 'show'])).value;
  t.is(policy.maxLifetimeDays, 90);
  t.true(Math.abs(Date.parse(policy.enforceOn) - (Date.now() + 30 * DAY)) < DAY, 'staged for next month');
});
