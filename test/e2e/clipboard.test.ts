/** The real X clipboard (Xvfb + xsel): what akm copies can be pasted back. */
import test from 'ava';
import { spawnSync } from 'node:child_process';
import { Sandbox } from '../helpers/cli.js';
import { needing, X_CLIPBOARD } from '../helpers/services.js';

function paste(): string {
  return spawnSync('xsel', ['--clipboard', '--output'], { encoding: 'utf8', env: process.env, timeout: 10_000 }).stdout;
}

needing(X_CLIPBOARD).serial('create and rotate copy the key string; copy puts the encrypted form there', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const env = { DISPLAY: process.env.DISPLAY, XAUTHORITY: process.env.XAUTHORITY };
  const created = await box.json(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5'], { env });
  t.is(created.code, 0, created.stderr);
  t.regex(created.stderr, /copied to the clipboard/);
  t.is(paste(), created.value.keyString);

  const rotated = await box.json(['rotate', 'svc'], { env });
  t.is(paste(), rotated.value.keyString);

  t.is((await box.run(['copy', 'svc'], { env })).code, 0);
  t.regex(paste(), /^key:AKM[A-Z2-7]{17}::akmenc1_[A-Za-z0-9_-]+,tenant id:acme$/);
});

test.serial('no clipboard: create warns and succeeds; copy fails with a hint to --print', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  const env = { DISPLAY: undefined, WAYLAND_DISPLAY: undefined };
  const created = await box.run(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5'], { env });
  t.is(created.code, 0);
  t.regex(created.stderr, /warning: could not copy to the clipboard/);
  t.regex(created.stdout, /secret key\s+akms_/);
  const copy = await box.run(['copy', 'svc'], { env });
  t.is(copy.code, 6);
  t.regex(copy.stderr, /hint: use --print/);
});
