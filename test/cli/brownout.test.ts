/** A brownout asked for at the command line: a shorter one than is running says what happened. */
import test from 'ava';
import { Sandbox } from '../helpers/cli.js';

test('a shorter --for during a brownout: exit 0, nothing changed, and a warning saying until when and what to do', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.akm(['create', '--name', 'svc', '--tenant-level', '--expires-in', '5', '--no-copy']);
  const first = await box.akmJson(['deactivate', 'svc', '--for', '2h']);
  t.is(first.code, 0, first.stderr);
  const until = first.value.inactiveUntil as string;
  t.false('warnings' in first.value);

  const human = await box.akm(['deactivate', 'svc', '--for', '30m']);
  t.is(human.code, 0, human.stderr);
  t.regex(human.stderr, /^warning: AKM\w+ is already in a brownout until \S+, longer than the 30 minutes asked/m);
  t.true(human.stderr.includes(until), 'piped: the exact end');
  t.regex(human.stderr, /akm activate AKM\w+ ends it now, a longer --for extends it/);

  const json = await box.akmJson(['deactivate', 'svc', '--for', '30m']);
  t.is(json.code, 0);
  t.is(json.value.inactiveUntil, until, 'the end is unchanged');
  t.is((json.value.warnings as string[]).length, 1, 'warnings, as create and extend report them');

  // A person at a terminal reads the end in local time, as the line after it says it.
  const person = await box.akm(['deactivate', 'svc', '--for', '30m'], {
    tty: true,
    columns: 200,
    env: { CI: undefined },
  });
  t.is(person.code, 0, person.stderr);
  t.false(person.stderr.includes(until), person.stderr);
  t.regex(person.stderr, /already in a brownout until \d{4}-\d\d-\d\d \d\d:\d\d \(in 2 hours\), longer than/);

  const audit = await box.akmJson(['audit']);
  t.is((audit.value as Array<{ action: string }>).filter((r) => r.action === 'key.deactivate').length, 1);
});
