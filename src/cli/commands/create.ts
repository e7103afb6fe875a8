/** akm create: a new key, its secret shown once and copied to the clipboard. */
import { Option, type Command } from 'commander';
import { expiryFromFlags, resolveExpiry } from '../../core/expiry.js';
import * as validate from '../../core/validate.js';
import type { KeyType } from '../../service/types.js';
import { collect, examples, type CommandContext } from '../command.js';
import { copyKeyString } from '../io/clipboard.js';
import type { Deps } from '../deps.js';
import { printIssuedKey } from '../render/keys.js';
import { NEVER_EXPIRES_WARNING } from '../wizards/expiry.js';
import { API_TYPE_WARNING, completeDraft, refuseIncompleteDraft, type CreateDraft } from '../wizards/createKey.js';

export interface CreateOptions {
  name?: string;
  description?: string;
  type?: KeyType;
  expiresIn?: string;
  expiresOn?: string;
  neverExpires?: boolean;
  owner?: string;
  tenantLevel?: boolean;
  group?: string[];
  role?: string[];
  /** a canary key: tenant-level, never authenticates, any attempt raises an alarm */
  canary?: boolean;
  /** undefined: copy only for a person at a terminal */
  copy?: boolean;
}

export function registerCreate(program: Command, ctx: CommandContext): void {
  program
    .command('create')
    .description('create a key; the secret is shown once (and, at a terminal, the key string copied)')
    .option('--name <name>', 'a label for people (cannot authenticate anything)')
    .option('--description <text>', 'what the key is for, up to 500 characters')
    .addOption(
      new Option('--type <type>', 'access (programmatic access) or api (data ingestion only)').choices([
        'access',
        'api',
      ]),
    )
    .addOption(
      new Option('--expires-in <days>', 'valid for this many days (1-3650)').conflicts(['expiresOn', 'neverExpires']),
    )
    .addOption(
      new Option(
        '--expires-on <date>',
        'valid until this date (YYYY-MM-DD, through that day) or ISO timestamp',
      ).conflicts(['neverExpires']),
    )
    .option('--never-expires', 'no expiry (not recommended; administrators only)')
    .addOption(
      new Option('--owner <email>', 'the user who owns the key (at most 2 keys each)').conflicts('tenantLevel'),
    )
    .option('--tenant-level', 'no owner: a tenant-level key (administrators only)')
    .addOption(
      new Option(
        '--canary',
        'a canary key to plant as bait: it never authenticates, and any attempt alerts the administrators',
      ).conflicts('owner'),
    )
    .option('--group <name>', 'assign a group (repeatable)', collect)
    .option('--role <name>', 'assign a role (repeatable)', collect)
    .option('--copy', 'copy the key string to the clipboard even when stdout is not a terminal')
    .option('--no-copy', 'do not copy the key string to the clipboard')
    .addHelpText(
      'after',
      `${examples(
        'akm create                                  # asks for everything',
        'akm create --name deploy-bot --expires-in 90 --tenant-level --role KeyManager --description "CI deploys"',
        'akm create --name laptop --owner alice@acme.test --expires-on 2027-06-30 --group Administrators',
        'akm create --name ingest --type api --expires-in 30 --tenant-level --role Ingestion --json --no-copy',
        'akm create --canary --name backup-admin --expires-in 365 --group Administrators --no-copy > bait.txt',
      )}
A canary key looks like any other (same formats; administrators see canary: true) and is
tenant-level. It can never authenticate: any attempt through akm serve (signed requests,
/v1/verify) or akm verify alerts every administrator (bell, e-mail, webhook key.canary_tripped)
and is recorded with its source. Plant its key string where a thief would look: backups, CI
variables, a laptop's dotfiles.
`,
    )
    .action(async (flags: CreateOptions, command: Command) => runCreate(flags, ctx.deps(command)));
}

export async function runCreate(options: CreateOptions, deps: Deps): Promise<void> {
  const { io, prompter } = deps;
  const expiry = expiryFromFlags(options);
  // Checked here too, so a refusal names what was typed, whichever store answers.
  if (expiry) resolveExpiry(expiry, deps.now());
  const description = options.description === undefined ? undefined : validate.description(options.description);
  const draft: CreateDraft = {
    name: options.name,
    type: options.type,
    expiry,
    owner: options.tenantLevel || options.canary ? null : options.owner,
    groups: options.group,
    roles: options.role,
  };
  const nothingGiven = Object.values(draft).every((v) => v === undefined);
  if (!prompter.canPrompt) await refuseIncompleteDraft(draft, deps.service);
  if (options.type === 'api') io.warn(API_TYPE_WARNING);
  if (draft.expiry?.kind === 'never') io.warn(NEVER_EXPIRES_WARNING);

  const service = await deps.service();
  const input = await completeDraft(draft, nothingGiven, { prompter, io, service, now: deps.now });
  const extras = { ...(description ? { description } : {}), ...(options.canary ? { canary: true } : {}) };
  const issued = await service.createKey({ ...input, ...extras });
  for (const warning of issued.warnings ?? []) io.warn(warning);
  printIssuedKey(io, issued, deps.now());
  if (issued.canary) io.notice('canary key: it never authenticates; any attempt to use it alerts the administrators');
  await copyKeyString(deps, issued.keyString, options.copy);
}
