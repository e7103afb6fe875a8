/**
 * akm policy show|set|apply: the tenant's lifetime policy. `set` stages it (warnings until
 * --enforce-on, refusals from then on) and tells the owners of keys that break it; existing keys
 * change only through `apply --cap`, asked for, confirmed and audited.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { NEVER_EXPIRES_RULES, parseDaysOrNone, parseEnforceOn, type NeverExpiresRule } from '../../core/policy.js';
import type { PolicyChanges, PolicyPreview } from '../../service/types.js';
import { examples, type CommandContext } from '../command.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';
import { helpOrUnknown } from '../parsing.js';
import { policyFields, violationsTable } from '../render/policy.js';
import { plural } from '../io/format.js';

export interface PolicySetOptions {
  maxLifetime?: string;
  neverExpires?: NeverExpiresRule;
  rotateEvery?: string;
  enforceOn?: string;
  dryRun?: boolean;
}

export interface PolicyApplyOptions {
  cap?: boolean;
  dryRun?: boolean;
}

export function registerPolicy(program: Command, ctx: CommandContext): void {
  const policy = helpOrUnknown(
    program.command('policy').description("the tenant's key lifetime policy: show it, set it, apply it"),
  );
  policy
    .command('show')
    .description('the lifetime policy in force (or staged)')
    .addHelpText('after', examples('akm policy show', 'akm policy show --json'))
    .action(async (_flags: object, command: Command) => runPolicyShow(ctx.deps(command)));
  policy
    .command('set')
    .description('change the policy (administrators); what is not given keeps its value')
    .option('--max-lifetime <days>', 'keys valid for at most this many days from now (1-3650, or none)')
    .addOption(
      new Option('--never-expires <who>', 'who may give a key no expiry: admins (default) or nobody').choices([
        ...NEVER_EXPIRES_RULES,
      ]),
    )
    .option('--rotate-every <days>', 'a secret older than this is a finding (1-3650, or none)')
    .option('--enforce-on <when>', 'refuse create/extend beyond the policy from then: a date, 30d, or now (default)')
    .option('--dry-run', 'list the keys that would break the policy; change nothing, tell nobody')
    .addHelpText(
      'after',
      `
Until --enforce-on, create and extend beyond the policy work with a warning; from then on
they are refused (exit 4, policy_violation). Existing keys are never changed: their owners and
the administrators are told (bell and e-mail) now, and 30 and 7 days before enforcement;
\`akm policy apply --cap\` caps them.
${examples(
  'akm policy set --max-lifetime 90 --dry-run          # which keys would break it?',
  'akm policy set --max-lifetime 90 --enforce-on 2027-01-01',
  'akm policy set --max-lifetime 90 --enforce-on 30d        # staged: enforced in 30 days',
  'akm policy set --never-expires nobody --rotate-every 180',
  'akm policy set --max-lifetime none                   # lift the limit',
)}`,
    )
    .action(async (flags: PolicySetOptions, command: Command) => runPolicySet(flags, ctx.deps(command)));
  policy
    .command('apply')
    .description('cap the expiry of every key that outlives the policy (administrators; asks first)')
    .option('--cap', 'give each such key the latest expiry the policy allows')
    .option('--dry-run', 'list what would change; change nothing')
    .addHelpText('after', examples('akm policy apply --cap --dry-run', 'akm policy apply --cap --yes --json'))
    .action(async (flags: PolicyApplyOptions, command: Command) => runPolicyApply(flags, ctx.deps(command)));
}

export async function runPolicyShow(deps: Deps): Promise<void> {
  const policy = await (await deps.service('read')).getPolicy();
  if (deps.io.json) return deps.io.outJson(policy);
  deps.io.out(policyFields(deps.io, policy, deps.now()));
}

export function policyChanges(options: PolicySetOptions, now: Date): PolicyChanges {
  const changes: PolicyChanges = {};
  if (options.maxLifetime !== undefined)
    changes.maxLifetimeDays = parseDaysOrNone(options.maxLifetime, '--max-lifetime');
  if (options.rotateEvery !== undefined)
    changes.rotateEveryDays = parseDaysOrNone(options.rotateEvery, '--rotate-every');
  if (options.neverExpires !== undefined) changes.neverExpires = options.neverExpires;
  if (options.enforceOn !== undefined) changes.enforceOn = parseEnforceOn(options.enforceOn, now);
  if (Object.keys(changes).length === 0)
    throw new UsageError('nothing to set', {
      hint: 'pass --max-lifetime, --never-expires, --rotate-every or --enforce-on',
      code: 'missing_flag',
    });
  return changes;
}

function printPreview(deps: Deps, preview: PolicyPreview, dryRun: boolean): void {
  const { io } = deps;
  if (io.json) return io.outJson(preview);
  const now = deps.now();
  io.out(policyFields(io, preview.policy, now));
  const count = preview.violations.length;
  if (count > 0) io.out(`\n${violationsTable(io, preview, now)}`);
  const keys = new Set(preview.violations.map((v) => v.accessKeyId)).size;
  const breaking = keys === 1 ? '1 key breaks' : `${keys} keys break`;
  const told = keys > 0 ? ': their owners and the administrators have been told' : '';
  io.info(
    dryRun
      ? `dry run: ${plural(keys, 'key')} would break this policy; nothing changed, nobody told`
      : `policy set; ${breaking} it${told}`,
  );
}

export async function runPolicySet(options: PolicySetOptions, deps: Deps): Promise<void> {
  const changes = policyChanges(options, deps.now());
  const dryRun = options.dryRun === true;
  const preview = await (await deps.service()).setPolicy(changes, { dryRun });
  printPreview(deps, preview, dryRun);
}

export async function runPolicyApply(options: PolicyApplyOptions, deps: Deps): Promise<void> {
  if (!options.cap)
    throw new UsageError('say what to apply: --cap', {
      hint: 'akm policy apply --cap --dry-run shows what it would change',
      code: 'missing_flag',
    });
  const service = await deps.service();
  const { renderBulkResult } = await import('../render/changes.js');
  const { io } = deps;
  const plan = await service.applyPolicy({ dryRun: true });
  const count = plan.keys.filter((k) => k.changed).length;
  if (options.dryRun || count === 0) {
    if (io.json) return io.outJson(plan);
    if (count > 0) io.out(renderBulkResult(io, plan, deps.now()));
    io.info(count === 0 ? 'no key outlives the policy' : `dry run: would cap ${plural(count, 'key')}; nothing changed`);
    return;
  }
  if (!deps.global.yes && deps.prompter.canPrompt) io.notice(renderBulkResult(io, plan, deps.now()));
  await confirmDestructive(deps, `Cap the expiry of these ${count} keys?`, 'nothing capped');
  const result = await service.applyPolicy({ dryRun: false });
  if (io.json) return io.outJson(result);
  io.out(renderBulkResult(io, result, deps.now()));
  io.info(`capped ${plural(result.keys.filter((k) => k.changed).length, 'key')}`);
}
