/**
 * akm store copy <from> <to>: every row of one store into a new, empty one of either engine
 * (a SQLite file or a PostgreSQL database), checked afterwards. Offline: stop the servers and
 * scripts that write the source first. Either side may be `env:VAR`, the name of an environment
 * variable holding a postgres:// URL, so its password stays out of the process list.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { isRemoteStore } from '../../config/paths.js';
import { storeHasPassword } from '../../core/storeUrl.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { plural } from '../io/format.js';
import { renderTable } from '../io/table.js';
import { helpOrUnknown } from '../parsing.js';

export function registerStore(program: Command, ctx: CommandContext): void {
  const store = helpOrUnknown(
    program.command('store').description('work on a store as a whole: copy it to another engine'),
  );
  store
    .command('copy')
    .description('copy a store into a new, empty one (SQLite ↔ PostgreSQL), then check the copy')
    .argument('<from>', 'the store to copy: a SQLite file, a postgres:// URL, or env:VAR')
    .argument('<to>', 'a new SQLite file, or an empty PostgreSQL database or schema (URL or env:VAR)')
    .addHelpText(
      'after',
      `${examples(
        'akm store copy /srv/akm/akm.db env:DATABASE_URL --master-key-file /etc/akm/master.key',
        'akm store copy postgres://akm@db.internal/akm ./akm.db      # password from PGPASSWORD or ~/.pgpass',
      )}
Offline: stop every akm serve and script that writes the source first. The rows are copied as
they are, sealed secrets and integrity MACs included, so both stores use the same master key
(--master-key-file, AKM_MASTER_KEY or the keychain entry of the source). The copy is refused
when the source fails its own check or the target holds any row; afterwards every table's row
count, every tenant's audit chain and head, and every MAC are checked on the target.
`,
    )
    .action(async (from: string, to: string, _flags: unknown, command: Command) =>
      runStoreCopy(from, to, ctx.deps(command)),
    );
}

/** A store argument: a path or URL as given, or `env:VAR` read from the environment. */
function storeArgument(value: string, deps: Deps, which: string): string {
  const named = /^env:([A-Za-z_][A-Za-z0-9_]*)$/.exec(value);
  const store = named ? deps.env[named[1]!] : value;
  if (!store)
    throw new UsageError(`${which}: the variable ${named![1]} is not set`, {
      hint: `export ${named![1]}=postgres://USER@HOST:PORT/DATABASE`,
      code: 'store_env_unset',
    });
  if (isRemoteStore(store))
    throw new UsageError(`${which}: akm store copy works on local stores, not on a server`, {
      hint: 'run it where the SQLite file or the PostgreSQL database can be reached',
    });
  if (!named && storeHasPassword(store))
    deps.io.warn(`the password in ${which} can be read by anyone in the process list; use env:VAR or ~/.pgpass`);
  return store;
}

export async function runStoreCopy(fromArg: string, toArg: string, deps: Deps): Promise<void> {
  const { io, settings } = deps;
  const from = storeArgument(fromArg, deps, '<from>');
  const to = storeArgument(toArg, deps, '<to>');
  // Loaded here: only this command needs it.
  const { copyStore } = await import('../../service/local/storeCopy.js');
  const report = await copyStore({
    from,
    to,
    masterKey: { file: settings.masterKeyFile, env: deps.env, keychain: deps.keychain },
    env: deps.env,
  });
  if (io.json) {
    io.outJson(report);
    return;
  }
  io.out(
    renderTable(
      io,
      ['table', 'rows'],
      report.tables.map((t) => [t.table, String(t.rows)]),
    ),
  );
  io.info(
    `copied ${report.from} to ${report.to}: ${plural(
      report.tables.reduce((n, t) => n + t.rows, 0),
      'row',
    )}; ` + `${plural(report.tenants.length, 'tenant')}, every audit chain and MAC checked`,
  );
}
