/**
 * What a person at a terminal sees, in a real pseudo-terminal (tmux): local dates with the
 * relative form beside them, tables that fit the width, a word when another process holds the
 * store, and an interactive `akm init`. Piped runs of the same commands stay exact.
 */
import { existsSync } from 'node:fs';
import { BIN, Sandbox } from '../helpers/cli.js';
import { fixture, spawnNode } from '../helpers/children.js';
import { needing, TMUX } from '../helpers/services.js';
import { TmuxSession } from '../helpers/tmux.js';

const TZ = 'America/New_York';

function terminal(box: Sandbox, args: string[], columns = 160, env: NodeJS.ProcessEnv = {}): TmuxSession {
  const sessionEnv = box.env({ CI: undefined, TERM: 'xterm-256color', TZ, ...env });
  return new TmuxSession(box.home, sessionEnv, [process.execPath, BIN, ...args], { columns, rows: 50 });
}

async function screenOf(t: import('ava').ExecutionContext, tty: TmuxSession): Promise<string> {
  t.teardown(() => tty.kill());
  t.is(await tty.exitCode(), 0, tty.screen());
  return tty.screen().replace(/\n+$/, '');
}

/** "2027-06-30 23:59" for an instant, in a time zone: what the terminal should show. */
function localIn(timeZone: string, iso: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-CA', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}`;
}

async function keysWithLongNames(): Promise<Sandbox> {
  const box = await new Sandbox().init();
  await box.run(['users', 'add', 'someone.with.a.rather.long.address@subdivision.acme.test']);
  await box.run(
    [
      'create',
      '--name',
      'nightly-export-to-the-analytics-warehouse',
      '--owner',
      'someone.with.a.rather.long.address@subdivision.acme.test',
      '--expires-in',
      '3',
      '--no-copy',
    ],
    { env: { TZ } },
  );
  // a bare date is the whole of that day where the person is
  await box.run(['create', '--name', 'deploy', '--tenant-level', '--expires-on', '2030-06-30', '--no-copy'], {
    env: { TZ },
  });
  return box;
}

needing(TMUX)(
  'dates on a terminal are local (2030-06-30 23:59), relative beside them where it helps; piped they are ISO',
  async (t) => {
    const box = await keysWithLongNames();
    t.teardown(() => box.cleanup());
    const keys = (await box.json(['list'])).value as Array<{ name: string; expiresAt: string }>;
    const soon = keys.find((k) => k.name.startsWith('nightly'))!;

    const list = await screenOf(t, terminal(box, ['list']));
    t.regex(list, /2030-06-30 23:59/, 'a key valid through June 30 shows that day, not the next midnight');
    t.true(list.includes(`${localIn(TZ, soon.expiresAt)} (in 3 days)`), list);
    t.notRegex(list, /\d{4}-\d\d-\d\dT\d\d:\d\d/, 'no ISO timestamps on a terminal');

    const show = await screenOf(t, terminal(box, ['show', 'deploy']));
    t.regex(show, /expires\s+2030-06-30 23:59 \(in (\d+ years|\d+ months)\)/);
    t.regex(show, /created\s+\d{4}-\d\d-\d\d \d\d:\d\d \((just now|\d+ seconds ago)\) by admin@acme\.test/);

    const audit = await screenOf(t, terminal(box, ['audit', '--limit', '1']));
    t.regex(audit, /\n(\d+\s+)?\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\s+admin@acme\.test\s+key\.create/);

    const piped = await box.run(['list'], { env: { TZ } });
    t.true(piped.stdout.includes(soon.expiresAt), 'piped: the exact ISO-8601 UTC timestamp');
    t.notRegex(piped.stdout, /\(in \d/);
  },
);

needing(TMUX)(
  'tables fit the terminal: columns dropped, cells cut with …, no word split; --wide and pipes show everything',
  async (t) => {
    const box = await keysWithLongNames();
    t.teardown(() => box.cleanup());
    for (let i = 0; i < 3; i++) await box.run(['extend', 'deploy', '--days', String(30 + i)]);

    const medium = await screenOf(t, terminal(box, ['list'], 120));
    for (const line of medium.split('\n')) t.true(line.length <= 120, `fits 120 columns: ${JSON.stringify(line)}`);
    t.regex(medium.split('\n')[0]!, /^ACCESS KEY ID\s+NAME\s+STATUS\s+OWNER\s+EXPIRES$/, 'TYPE and LAST USED go first');
    t.regex(medium, /nightly-export-to-\S*…/);
    t.regex(medium, /someone\.with\.a\S*…/);

    const narrow = await screenOf(t, terminal(box, ['list'], 80));
    const lines = narrow.split('\n');
    for (const line of lines) t.true(line.length <= 80, `fits 80 columns: ${JSON.stringify(line)}`);
    t.regex(lines[0]!, /^ACCESS KEY ID\s+NAME\s+STATUS\s+OWNER\s+EXPIRES$/, 'every header whole');
    t.regex(narrow, /nightly-export\S*…\s+active\s+someone\S*…\s+\d{4}-\d\d-\d\d \d\d:\d\d$/m, 'then "(in 3 days)"');

    // 60 columns: the relative form counts too, and every table akm prints fits
    for (const args of [['list'], ['audit'], ['report'], ['users', 'list'], ['policy', 'show'], ['groups', 'list']]) {
      const screen = await screenOf(t, terminal(box, args, 60));
      for (const line of screen.split('\n'))
        t.true(line.length <= 60, `${args.join(' ')} fits 60: ${JSON.stringify(line)}`);
    }
    t.regex(await screenOf(t, terminal(box, ['list'], 60)), /^ACCESS KEY ID\s+NAME\s+STATUS\s+EXPIRES$/m);

    const audit = await screenOf(t, terminal(box, ['audit'], 100));
    for (const line of audit.split('\n')) t.true(line.length <= 100, `audit fits 100 columns: ${JSON.stringify(line)}`);
    t.regex(audit.split('\n')[0]!, /^WHEN\s+ACTOR\s+ACTION\s+TARGET\s+DETAILS\s+FROM$/);

    const wide = await screenOf(t, terminal(box, ['list', '--wide'], 80));
    t.regex(wide, /nightly-export-to-the-analytics-warehouse/);
    t.regex(wide.split('\n')[0]!, /TYPE.*LAST USED/);
    t.false(wide.includes('…'));

    const piped = await box.run(['list']);
    t.regex(piped.stdout, /nightly-export-to-the-analytics-warehouse/);
    t.regex(piped.stdout, /someone\.with\.a\.rather\.long\.address@subdivision\.acme\.test/);
    t.false(piped.stdout.includes('…'), 'piped output is never cut');
  },
);

needing(TMUX)(
  'a locked store: "waiting for another akm process…" on a terminal, then the change goes through',
  async (t) => {
    const box = await new Sandbox().init();
    t.teardown(() => box.cleanup());
    const holder = spawnNode(fixture('lock-holder'), [box.storePath]);
    t.teardown(() => holder.process.kill());
    await holder.waitForLine((line) => line === 'locked');

    const tty = terminal(box, ['users', 'add', 'waiting@acme.test']);
    t.teardown(() => tty.kill());
    await tty.waitFor(/waiting for another akm process to finish with the store…/);
    const piped = box.run(['users', 'add', 'piped@acme.test']);
    holder.process.stdin!.end(); // the other process commits and lets go
    t.is(await tty.exitCode(), 0, tty.screen());
    t.regex(tty.screen(), /added waiting@acme\.test/);
    const quiet = await piped;
    t.is(quiet.code, 0, quiet.stderr);
    t.notRegex(quiet.stderr, /waiting for/, 'not on a terminal: nothing to say');
    const users = (await box.json(['users', 'list'])).value.map((u: { email: string }) => u.email);
    t.deepEqual(users.sort(), ['admin@acme.test', 'piped@acme.test', 'waiting@acme.test']);
  },
);

needing(TMUX)(
  'an interactive init asks for the tenant name, suggests an id from it, and asks for the administrator',
  async (t) => {
    const box = new Sandbox();
    t.teardown(() => box.cleanup());
    const tty = terminal(box, ['init']);
    t.teardown(() => tty.kill());
    await tty.waitFor(/Tenant name/);
    tty.type('Ächme Widgets, Inc.');
    tty.keys('Enter');
    await tty.waitFor(/Tenant id .*\(achme-widgets-inc\)/);
    tty.keys('Enter'); // take the suggestion
    await tty.waitFor(/Email of the first administrator/);
    tty.type('not an email');
    tty.keys('Enter');
    await tty.waitFor(/invalid email address/);
    for (let i = 0; i < 12; i++) tty.keys('BSpace');
    tty.type('ops@achme.test');
    tty.keys('Enter');
    t.is(await tty.exitCode(), 0, tty.screen());
    t.regex(tty.screen(), /tenant\s+achme-widgets-inc \(Ächme Widgets, Inc\.\)/);
    t.notRegex(tty.screen(), /t-[a-z2-7]{8}/, 'no invented id');
    const me = await box.json(['whoami']);
    t.like(me.value, { tenantId: 'achme-widgets-inc', tenantName: 'Ächme Widgets, Inc.', actor: 'ops@achme.test' });
  },
);

needing(TMUX)(
  'init on a machine without a keychain says so first and offers a key file, before any question',
  async (t) => {
    const box = new Sandbox();
    t.teardown(() => box.cleanup());
    // no AKM_MASTER_KEY, and the pane has no D-Bus session: there is no Secret Service to reach
    const tty = terminal(box, ['init'], 60, { AKM_MASTER_KEY: undefined, DBUS_SESSION_BUS_ADDRESS: undefined });
    t.teardown(() => tty.kill());
    const screen = await tty.waitFor(/Keep the master key in this file instead/);
    t.regex(screen, /^warning: no OS keychain can keep the master key/m);
    t.notRegex(screen, /Tenant name/, 'the offer is the first question');
    tty.keys('C-c');
    t.is(await tty.exitCode(), 130, tty.screen());
    t.false(existsSync(box.storePath), 'nothing made');
    // Without a terminal: an error at once, naming both ways on
    const piped = await box.run(['init', '--admin', 'a@acme.test'], { env: { AKM_MASTER_KEY: undefined } });
    t.is(piped.code, 6, piped.stderr);
    t.regex(piped.stderr, /--master-key-file ~\/\.config\/akm\/master\.key, or set AKM_MASTER_KEY/);
  },
);
