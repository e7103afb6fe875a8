/** Several real akm processes against one store at the same moment. */
import test from 'ava';
import { Sandbox } from '../helpers/cli.js';

test('8 processes creating keys for one user at the same moment: exactly 2 succeed', async (t) => {
  const box = await new Sandbox().init();
  t.teardown(() => box.cleanup());
  await box.run(['users', 'add', 'race@acme.test']);
  const results = await Promise.all(
    Array.from({ length: 8 }, (_, i) =>
      box.run(['create', '--name', `k${i}`, '--owner', 'race@acme.test', '--expires-in', '5', '--no-copy']),
    ),
  );
  const codes = results.map((r) => r.code).sort();
  t.log(`exit codes: ${codes.join(' ')}`);
  t.deepEqual(codes, [0, 0, 4, 4, 4, 4, 4, 4]);
  for (const r of results) t.notRegex(r.stderr, /SQLITE_BUSY|locked/);
  t.is((await box.json(['list', '--owner', 'race@acme.test'])).value.length, 2);
});
