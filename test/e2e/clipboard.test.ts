/**
 * The real X clipboard (Xvfb + xsel): a new key string is copied for a person at a terminal
 * (or with --copy), never for a pipeline, and cleared again after a while unless something
 * else was copied meanwhile.
 */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { until } from '../helpers/children.js';
import { BIN, Sandbox } from '../helpers/cli.js';
import { needing, TMUX, X_CLIPBOARD } from '../helpers/services.js';
import { TmuxSession } from '../helpers/tmux.js';

const display = () => ({ DISPLAY: process.env.DISPLAY, XAUTHORITY: process.env.XAUTHORITY });

function paste(): string {
  return spawnSync('xsel', ['--clipboard', '--output'], { encoding: 'utf8', env: process.env, timeout: 10_000 }).stdout;
}

function copyText(text: string): void {
  spawnSync('xsel', ['--clipboard', '--input'], { input: text, env: process.env, timeout: 10_000 });
}

/** The clearing helpers a sandbox's akm left running (found through /proc, by their HOME). */
function clearingHelpers(box: Sandbox): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      const environ = readFileSync(`/proc/${entry}/environ`, 'utf8').split('\0');
      if (cmdline.includes('clear-clipboard.js') && environ.includes(`HOME=${box.home}`)) pids.push(Number(entry));
    } catch {
      // gone meanwhile, or not ours to read
    }
  }
  return pids;
}

needing(X_CLIPBOARD).serial(
  'a pipeline gets no copy unless it asks with --copy; then it is cleared after AKM_CLIPBOARD_SECONDS',
  async (t) => {
    const box = await new Sandbox().init();
    t.teardown(() => box.cleanup());
    copyText('before');
    const piped = await box.json(['create', '--name', 'piped', '--tenant-level', '--expires-in', '5'], {
      env: display(),
    });
    t.is(piped.code, 0, piped.stderr);
    t.notRegex(piped.stderr, /copied/);
    t.is(paste(), 'before', 'stdout is not a terminal: the clipboard was not touched');

    const asked = await box.json(['create', '--name', 'asked', '--tenant-level', '--expires-in', '5', '--copy'], {
      env: { ...display(), AKM_CLIPBOARD_SECONDS: '3' },
    });
    t.is(asked.code, 0, asked.stderr);
    t.regex(
      asked.stderr,
      /✓ key string copied to the clipboard \(cleared in 3 s unless you copy something else first\)/,
    );
    t.is(paste(), asked.value.keyString);
    const helpers = clearingHelpers(box);
    t.true(helpers.length > 0, 'akm returned; the detached helper is still waiting');
    for (const pid of helpers) {
      const seen = ['cmdline', 'environ'].map((f) => readFileSync(`/proc/${pid}/${f}`, 'utf8')).join('\n');
      t.false(seen.includes(asked.value.secretKey), 'the helper has only a digest, never the secret in argv or env');
    }
    await until(() => paste() === '', 'the clipboard is cleared');
    await until(() => clearingHelpers(box).length === 0, 'the helper is gone');

    const rotated = await box.json(['rotate', 'asked', '--copy'], {
      env: { ...display(), AKM_CLIPBOARD_SECONDS: '0' },
    });
    t.is(paste(), rotated.value.keyString);
    t.deepEqual(clearingHelpers(box), [], 'AKM_CLIPBOARD_SECONDS=0 leaves it there');

    t.is((await box.run(['copy', 'asked'], { env: display() })).code, 0);
    t.regex(paste(), /^key:AKM[A-Z2-7]{17}::akmenc1_[A-Za-z0-9_-]+,tenant id:acme$/);
  },
);

needing(X_CLIPBOARD).serial('something copied meanwhile is left alone; --quiet never says "copied"', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const created = await box.json(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--copy', '-q'], {
    env: { ...display(), AKM_CLIPBOARD_SECONDS: '6' },
  });
  t.is(created.code, 0, created.stderr);
  t.notRegex(created.stderr, /copied/);
  t.is(paste(), created.value.keyString);
  copyText('something else');
  await until(() => clearingHelpers(box).length === 0, 'the helper has done its check', 60_000);
  t.is(paste(), 'something else');
});

needing(X_CLIPBOARD, TMUX).serial(
  'at a terminal the key string is copied without being asked; with CI set it is not',
  async (t) => {
    const box = await new Sandbox().init();
    t.teardown(() => box.cleanup());
    for (const [name, ci] of [
      ['by-hand', undefined],
      ['in-ci', '1'],
    ] as const) {
      copyText('before');
      const env = box.env({ CI: ci, TERM: 'xterm-256color', ...display(), AKM_CLIPBOARD_SECONDS: '0' });
      const tty = new TmuxSession(box.home, env, [
        process.execPath,
        BIN,
        'create',
        '--name',
        name,
        '--tenant-level',
        '--expires-in',
        '5',
      ]);
      t.teardown(() => tty.kill());
      t.is(await tty.exitCode(), 0, tty.screen());
      const keyString = /key string\s+(key:\S+,tenant id:acme)/.exec(tty.screen())?.[1];
      t.truthy(keyString, tty.screen());
      if (ci) t.is(paste(), 'before', 'CI: no copy');
      else {
        t.is(paste(), keyString!);
        t.regex(tty.screen(), /✓ key string copied to the clipboard/);
      }
    }
  },
);

test.serial('no clipboard: --copy warns in one line and succeeds; copy fails with a hint to --print', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const env = { DISPLAY: undefined, WAYLAND_DISPLAY: undefined };
  const created = await box.run(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--copy'], { env });
  t.is(created.code, 0);
  t.regex(created.stderr, /^warning: not copied to the clipboard: no display to hold it; the key string is above$/m);
  t.is(created.stderr.split('\n').filter((l) => /clipboard/i.test(l)).length, 1, created.stderr);
  t.regex(created.stdout, /secret key\s+akms_/);
  const copy = await box.run(['copy', 'svc'], { env });
  t.is(copy.code, 6);
  t.regex(copy.stderr, /hint: use --print/);
});
