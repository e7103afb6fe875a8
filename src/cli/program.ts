/** The Commander program: global options, then one registration line per command. */
import { Command } from 'commander';
import type { CommandContext } from './command.js';
import type { Streams } from './io/io.js';
import { hardenParsing, helpOrUnknown } from './parsing.js';
import { registerActivation } from './commands/activate.js';
import { registerAssign } from './commands/assign.js';
import { registerAudit } from './commands/audit.js';
import { registerCompletion } from './commands/completion.js';
import { registerConfig } from './commands/config.js';
import { registerCopy } from './commands/copy.js';
import { registerCreate } from './commands/create.js';
import { registerDelete } from './commands/delete.js';
import { registerDeliver } from './commands/deliver.js';
import { registerEdit } from './commands/edit.js';
import { registerExtend } from './commands/extend.js';
import { registerGroups } from './commands/groups.js';
import { registerInit } from './commands/init.js';
import { registerList } from './commands/list.js';
import { registerLogin } from './commands/login.js';
import { registerLogout } from './commands/logout.js';
import { registerMasterKey } from './commands/masterKey.js';
import { registerNotifications } from './commands/notifications.js';
import { registerNotifyExpiring } from './commands/notifyExpiring.js';
import { registerPermissions } from './commands/permissions.js';
import { registerPolicy } from './commands/policy.js';
import { registerReport } from './commands/report.js';
import { registerRoles } from './commands/roles.js';
import { registerRotate } from './commands/rotate.js';
import { registerServe } from './commands/serve.js';
import { registerShow } from './commands/show.js';
import { registerStore } from './commands/store.js';
import { registerUsers } from './commands/users.js';
import { registerVerify } from './commands/verify.js';
import { registerWebhooks } from './commands/webhooks.js';
import { registerWhoami } from './commands/whoami.js';

export function buildProgram(
  version: string,
  ctx: CommandContext,
  streams: Pick<Streams, 'stdout' | 'stderr'>,
): Command {
  // Environment variables are read by settings.ts (from the environment main() is given), which
  // also records where each value came from for `akm config show`.
  const program = new Command('akm')
    .description('Create and manage programmatic access keys for your tenant.')
    .version(version, '-V, --version', 'print the version')
    .option('--store <path|url>', 'the store: a SQLite file, a postgres:// URL, or an akm server URL (env: AKM_STORE)')
    .option('--store-env <var>', 'read the store from this environment variable (keeps a password out of argv)')
    .option('--profile <name>', 'settings profile to use (env: AKM_PROFILE)')
    .option('--tenant <id>', 'tenant to act in, on a local store holding several (env: AKM_TENANT)')
    .option(
      '--master-key-file <path>',
      'read the master key from this file instead of the OS keychain (env: AKM_MASTER_KEY_FILE)',
    )
    .option('--as <email>', 'on a shared local store: the administrator acting (recorded in the audit trail)')
    .option('--json', 'print one JSON document on stdout')
    .option('-y, --yes', 'answer yes to confirmations')
    .option('--no-input', 'never prompt; fail with a usage error instead')
    .option('--no-color', 'no colour (NO_COLOR is honoured too)')
    .option('--wide', 'tables show every column in full, however narrow the terminal')
    .option('-q, --quiet', 'print only data and errors')
    .helpOption('-h, --help', 'show help')
    // Every subcommand's help lists these too (subcommands copy this setting when created).
    .configureHelp({ showGlobalOptions: true })
    // Before any command exists, so every subcommand shares it: help and Commander's own messages
    // go to the run's streams (not process.stdout), and errors are reported by main().
    .configureOutput({
      writeOut: (text: string) => streams.stdout.write(text),
      writeErr: (text: string) => streams.stderr.write(text),
      outputError: () => {},
    });
  helpOrUnknown(program);
  program.addHelpText(
    'after',
    `
Exit codes: 0 ok, 1 unexpected, 2 usage, 3 not found, 4 conflict or limit,
            5 authentication or permission denied, 6 store or server unavailable, 130 cancelled.

Get started:
  $ akm init --tenant acme --admin you@acme.test
  $ akm create --name deploy-bot --expires-in 90 --tenant-level
  $ akm list`,
  );

  // Grouped in --help, as gh groups its commands: keys first, what is set up once last.
  const groups: Array<[heading: string, registers: Array<(program: Command, ctx: CommandContext) => void>]> = [
    [
      'Keys:',
      [
        registerCreate,
        registerList,
        registerShow,
        registerRotate,
        registerExtend,
        registerEdit,
        registerAssign,
        registerCopy,
        registerActivation,
        registerDelete,
        registerPermissions,
        registerVerify,
      ],
    ],
    ['People and permissions:', [registerUsers, registerGroups, registerRoles]],
    [
      'Governance and audit:',
      [
        registerReport,
        registerPolicy,
        registerAudit,
        registerNotifications,
        registerNotifyExpiring,
        registerWebhooks,
        registerDeliver,
      ],
    ],
    ['Setting up:', [registerInit, registerLogin, registerWhoami, registerLogout, registerConfig, registerCompletion]],
    ['Stores and servers:', [registerServe, registerStore, registerMasterKey]],
  ];
  for (const [heading, registers] of groups) {
    program.commandsGroup(heading);
    for (const register of registers) register(program, ctx);
  }
  // `help [command]` goes with the commands a newcomer reads first, not in a group of its own.
  program.commandsGroup('Setting up:').helpCommand(true);
  // Every command reports its errors through main(), with akm's codes and suggestions.
  hardenParsing(program);
  return program;
}
