/**
 * akm master-key export|rotate: a backup copy of the store's master key, and a new master key.
 * Both are for administrators, on the machine that opens the store (a SQLite file, or a
 * PostgreSQL database it reaches): the master key never goes through a server.
 */
import type { Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { isPostgresStore } from '../../core/storeUrl.js';
import type { MasterKeyRotation } from '../../service/types.js';
import { examples, type CommandContext } from '../command.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';
import { plural, printable } from '../io/format.js';
import { renderFields } from '../io/table.js';
import { helpOrUnknown } from '../parsing.js';

export interface RotateMasterKeyOptions {
  dryRun?: boolean;
  newKeyFile?: string;
  printNewKey?: boolean;
}

export function registerMasterKey(program: Command, ctx: CommandContext): void {
  const group = helpOrUnknown(
    program
      .command('master-key')
      .description("back up or replace the store's master key (administrators, on the store's own machine)"),
  );
  group
    .command('export')
    .description(
      'write the master key to a new file (0600) to keep somewhere safe (asks first; --yes without a terminal)',
    )
    .requiredOption('--to <file>', 'the new file; an existing file is never overwritten')
    .addHelpText(
      'after',
      `${examples(
        'akm master-key export --to /media/usb/akm-master.key',
        'akm master-key export --to ./akm-master.key --yes --json',
      )}
Without the master key nobody can read the store: no secret can be recovered, not even by you.
Keep the file offline, away from the store and its backups. To use it: --master-key-file FILE,
or AKM_MASTER_KEY="$(cat FILE)".
`,
    )
    .action(async (flags: { to: string }, command: Command) => runExportMasterKey(flags.to, ctx.deps(command)));
  group
    .command('rotate')
    .description(
      'a new master key: every secret re-sealed and every integrity MAC and audit record re-keyed, ' +
        'in one transaction (asks first; --yes without a terminal)',
    )
    .option('--dry-run', 'check that the store can be rotated and count what would be re-keyed; change nothing')
    .option('--new-key-file <file>', 'with a key from AKM_MASTER_KEY: write the new key to this new file (0600)')
    .option('--print-new-key', 'with a key from AKM_MASTER_KEY: print the new key on stdout, before it is used')
    .addHelpText(
      'after',
      `${examples(
        'akm master-key rotate --dry-run',
        'akm master-key rotate                          # keychain or --master-key-file: replaced in place',
        'AKM_MASTER_KEY=… akm master-key rotate --new-key-file ./new-master.key --yes',
      )}
The new key takes the old one's place: the OS keychain entry, or the --master-key-file file.
With AKM_MASTER_KEY akm cannot change the environment: it writes the new key to --new-key-file
(or prints it with --print-new-key) before the rotation commits; put it in AKM_MASTER_KEY then.
Interrupted at any point, the store opens with exactly one of the two keys, and akm finds it.
Other akm processes and servers on the store refuse to write until they restart with the new key.
`,
    )
    .action(async (flags: RotateMasterKeyOptions, command: Command) => runRotateMasterKey(flags, ctx.deps(command)));
}

export async function runExportMasterKey(file: string, deps: Deps): Promise<void> {
  const service = await deps.service();
  // Everything that could refuse is checked before anyone is asked.
  const planned = await service.exportMasterKey({ file, dryRun: true });
  await confirmDestructive(
    deps,
    `Write the master key of this store to ${printable(planned.file)}? Whoever reads that file can open ` +
      'every secret in the store.',
    'not exported',
  );
  const exported = await service.exportMasterKey({ file });
  if (deps.io.json) return deps.io.outJson(exported);
  deps.io.info(
    `wrote the master key to ${printable(exported.file)} (0600). Keep it offline, away from the store; ` +
      'akm --master-key-file FILE uses it',
  );
}

export async function runRotateMasterKey(options: RotateMasterKeyOptions, deps: Deps): Promise<void> {
  const { io } = deps;
  if (options.printNewKey && io.json)
    throw new UsageError('--print-new-key prints the key alone on stdout: it cannot go with --json', {
      hint: 'use --new-key-file FILE with --json',
    });
  const service = await deps.service();
  const printing = { newKeyFile: options.newKeyFile, printNewKey: options.printNewKey ? () => {} : undefined };
  const planned = await service.rotateMasterKey({ ...printing, dryRun: true });
  if (options.dryRun) return printRotation(deps, planned);
  await confirmDestructive(
    deps,
    `Replace the master key of this store? It re-seals ${plural(planned.secrets, 'secret')} and re-keys ` +
      `${plural(planned.rows, 'row')} and ${plural(planned.auditRecords, 'audit record')} in ` +
      `${plural(planned.tenants, 'tenant')}; other akm processes and servers on the store stop writing until ` +
      'they have the new key.',
    'not rotated',
  );
  const rotation = await service.rotateMasterKey({
    newKeyFile: options.newKeyFile,
    printNewKey: options.printNewKey ? (key) => io.out(key) : undefined,
  });
  printRotation(deps, rotation);
}

function printRotation(deps: Deps, rotation: MasterKeyRotation): void {
  const { io } = deps;
  if (io.json) return io.outJson(rotation);
  const fields = renderFields(io, [
    ...(rotation.newKey ? ([['new key', printable(rotation.newKey)]] as Array<[string, string]>) : []),
    ['tenants', String(rotation.tenants)],
    ['secrets', String(rotation.secrets)],
    ['rows', String(rotation.rows)],
    ['audit records', String(rotation.auditRecords)],
    ...(rotation.auditHead ? ([['audit head', rotation.auditHead]] as Array<[string, string]>) : []),
  ]);
  // stdout holds the printed key alone when it was asked for.
  if (rotation.newKey === 'printed') io.info(fields);
  else io.out(fields);
  if (rotation.dryRun) return io.info('dry run: the store can be rotated; nothing was changed');
  const fromEnvironment = deps.settings.origins.masterKey === 'env AKM_MASTER_KEY';
  const newKey = rotation.newKey === 'printed' ? 'printed on stdout' : `in ${printable(rotation.newKey ?? '')}`;
  const next = [
    fromEnvironment
      ? `put the new key (${newKey}) in AKM_MASTER_KEY before the next run: the old one no longer opens the store`
      : 'back the new key up: akm master-key export --to FILE',
    'note the new audit head above: heads noted before the rotation no longer verify, except the one just before it',
  ];
  if (isPostgresStore(deps.settings.store))
    next.push('restart every akm serve and admin on this database with the new key: with the old one they refuse');
  io.info(`${io.errStyle.green('✓ master key rotated')}. Next:\n${next.map((line) => `  ${line}`).join('\n')}`);
}
