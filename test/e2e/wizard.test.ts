/**
 * The interactive flows, driven for real in a pseudo-terminal (tmux): what Inquirer draws and
 * reads, keys, Ctrl-C. Which questions are asked when is tested in-process (test/cli/prompts.test.ts).
 */
import { BIN, Sandbox } from '../helpers/cli.js';
import { needing, TMUX } from '../helpers/services.js';
import { TmuxSession } from '../helpers/tmux.js';

function session(box: Sandbox, args: string[]): TmuxSession {
  // A terminal session: CI unset so prompts are allowed, as for a person at a keyboard.
  const env = box.env({ CI: undefined, TERM: 'xterm-256color' });
  return new TmuxSession(box.home, env, [process.execPath, BIN, ...args]);
}

needing(TMUX)('akm create with nothing else walks through every question and confirms a summary', async (t) => {
  const box = await new Sandbox().init();
  await box.run(['groups', 'create', 'Deployers']);
  const tty = session(box, ['create', '--no-copy']);
  t.teardown(() => {
    tty.kill();
    box.cleanup();
  });

  await tty.waitFor(/Owner/);
  tty.keys('Down', 'Enter'); // (tenant-level key)
  await tty.waitFor(/Name \(a label for people\)/);
  tty.type('wizard-key');
  tty.keys('Enter');
  await tty.waitFor(/Type/);
  tty.keys('Down', 'Enter'); // api → warned and asked to confirm
  await tty.waitFor(/api keys are for data-ingestion integrations only/);
  await tty.waitFor(/Create an api key\?/);
  tty.type('n');
  tty.keys('Enter');
  await tty.waitFor(/Type[\s\S]*Type/); // asked again
  tty.keys('Enter'); // access
  await tty.waitFor(/Valid for/);
  tty.keys('Down', 'Down', 'Down', 'Down', 'Enter'); // from the 90-day default down to never
  await tty.waitFor(/a definite expiry is recommended/);
  await tty.waitFor(/Create a key that never expires\?/);
  tty.type('n');
  tty.keys('Enter');
  await tty.waitFor(/Valid for[\s\S]*Valid for/);
  tty.keys('Down', 'Down', 'Down', 'Enter'); // until a date…
  await tty.waitFor(/Expires on/);
  tty.type('2027-02-30');
  tty.keys('Enter');
  await tty.waitFor(/not a real calendar date/);
  for (let i = 0; i < 10; i++) tty.keys('BSpace');
  tty.type('2020-01-01');
  tty.keys('Enter');
  await tty.waitFor(/2020-01-01 is in the past/); // what was typed, not the instant it meant
  for (let i = 0; i < 10; i++) tty.keys('BSpace');
  tty.type('2030-06-30');
  tty.keys('Enter');
  await tty.waitFor(/Groups/);
  tty.keys('Space', 'Enter'); // Administrators is first alphabetically
  await tty.waitFor(/Roles/);
  tty.keys('Down', 'Space', 'Enter'); // Ingestion
  await tty.waitFor(/Create this key\?/);
  const summary = tty.screen();
  t.regex(summary, /name\s+wizard-key/);
  // A bare date means through that whole day, shown as its last minute in local time.
  t.regex(summary, /validity\s+until 2030-06-30 23:59\n/);
  t.notRegex(summary, /2030-07-01|T00:00:00/);
  t.regex(summary, /owner\s+\(tenant-level\)/);
  t.regex(summary, /groups\s+Administrators/);
  t.regex(summary, /roles\s+Ingestion/);
  tty.keys('Enter');
  t.is(await tty.exitCode(), 0, tty.screen());
  const screen = tty.screen();
  t.regex(screen, /secret key\s+akms_/);
  t.regex(screen, /only time the secret key is shown/);

  const [key] = (await box.json(['list'])).value;
  t.is(key.name, 'wizard-key');
  t.is(key.type, 'access');
  t.is(key.owner, null);
  t.deepEqual(key.groups, ['Administrators']);
  t.deepEqual(key.roles, ['Ingestion']);
  t.is(
    key.expiresAt,
    new Date(2030, 6, 1).toISOString(),
    'valid through June 30: it expires at the next local midnight',
  );
});

needing(TMUX)(
  'delete and rotate default to No; declining says "not deleted" / "not rotated" (no error) and exits 130',
  async (t) => {
    const box = await new Sandbox().init();
    t.teardown(() => box.cleanup());
    const created = await box.json(['create', '--name', 'keep', '--tenant-level', '--expires-in', '5', '--no-copy']);
    const no = session(box, ['delete', 'keep']);
    await no.waitFor(/Delete AKM[A-Z2-7]{17} \("keep"\)\? This cannot be undone\. \(y\/N\)/);
    no.keys('Enter'); // the default
    t.is(await no.exitCode(), 130);
    t.regex(no.screen(), /^not deleted$/m);
    t.notRegex(no.screen(), /error:/);
    no.kill();
    t.is((await box.json(['list'])).value.length, 1);

    const rotate = session(box, ['rotate', 'keep', '--no-copy']);
    await rotate.waitFor(/Issue a new secret for keep\? The old one stops working at once\. \(y\/N\)/);
    rotate.keys('Enter');
    t.is(await rotate.exitCode(), 130);
    t.regex(rotate.screen(), /^not rotated$/m);
    t.notRegex(rotate.screen(), /error:/);
    rotate.kill();
    const stillValid = await box.run(['verify'], { input: created.value.keyString });
    t.is(stillValid.code, 0, 'declining changed nothing: the secret still works');

    const interrupted = session(box, ['create']);
    await interrupted.waitFor(/Owner/);
    interrupted.keys('C-c');
    t.is(await interrupted.exitCode(), 130);
    interrupted.kill();

    const yes = session(box, ['delete', 'keep']);
    await yes.waitFor(/This cannot be undone/);
    yes.type('y');
    yes.keys('Enter');
    t.is(await yes.exitCode(), 0);
    yes.kill();
    t.is((await box.json(['list'])).value.length, 0);
  },
);

needing(TMUX)(
  'the wizard checks each answer as given: an owner at 2/2 cannot be picked, a taken name is refused at once',
  async (t) => {
    const box = await new Sandbox().init();
    t.teardown(() => box.cleanup());
    for (const user of ['full@acme.test', 'free@acme.test']) await box.run(['users', 'add', user]);
    for (const name of ['one', 'two'])
      await box.run(['create', '--name', name, '--owner', 'full@acme.test', '--expires-in', '5', '--no-copy']);
    await box.run(['create', '--name', 'taken', '--owner', 'free@acme.test', '--expires-in', '5', '--no-copy']);
    const tty = session(box, ['create', '--expires-in', '30', '--no-copy']);
    t.teardown(() => tty.kill());
    const owners = await tty.waitFor(/full@acme\.test/);
    t.regex(owners, /full@acme\.test \(2\/2 keys\).*already owns 2 keys/);
    // admin@acme.test, free@acme.test, full@acme.test, tenant-level: the cursor skips full
    tty.keys('Down', 'Down');
    await tty.waitFor(/❯ \(tenant-level key, no owner\)/);
    tty.keys('Up');
    await tty.waitFor(/❯ free@acme\.test/);
    tty.keys('Enter');
    await tty.waitFor(/Name/);
    tty.type('TAKEN');
    tty.keys('Enter');
    await tty.waitFor(/a key named "TAKEN" already exists for free@acme\.test/);
    for (let i = 0; i < 5; i++) tty.keys('BSpace');
    tty.type('second');
    tty.keys('Enter');
    t.is(await tty.exitCode(), 0, tty.screen());
    const keys = (await box.json(['list', '--owner', 'free@acme.test'])).value;
    t.deepEqual(keys.map((k: { name: string }) => k.name).sort(), ['second', 'taken']);
  },
);
