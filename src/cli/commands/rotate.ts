/**
 * akm rotate: a new secret, shown once; the old one stops now, after a fixed grace, or (with
 * `--grace auto`) once nothing has used it for the quiet period. `--finish` ends a grace now.
 */
import { Option, type Command } from 'commander';
import { CancelledError } from '../../core/errors.js';
import { describeDuration } from '../../core/duration.js';
import { graceFromFlags, type GraceChoice } from '../../core/grace.js';
import { examples, type CommandContext } from '../command.js';
import { copyKeyString } from '../io/clipboard.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';
import { printable } from '../io/format.js';
import { keyTable, printIssuedKey } from '../render/keys.js';

export interface RotateOptions {
  grace?: string;
  quietFor?: string;
  finish?: boolean;
  /** undefined: copy only for a person at a terminal */
  copy?: boolean;
}

export function registerRotate(program: Command, ctx: CommandContext): void {
  program
    .command('rotate')
    .description('issue a new secret; the old one stops working now, when --grace ends, or once unused (--grace auto)')
    .argument('<key>', 'access key id, or a unique key name')
    .addOption(
      new Option(
        '--grace <duration|auto>',
        'keep the old secret working this long (30m, 12h, 7d; at most 30d, never past expiry), or auto: until unused',
      ).conflicts('finish'),
    )
    .addOption(
      new Option(
        '--quiet-for <duration>',
        'with --grace auto: how long the old secret must go unused before it stops (default 1h, at least 1m)',
      ).conflicts('finish'),
    )
    .option('--finish', 'end the grace of the last rotation now: the old secret stops working (no new secret)')
    .option('--copy', 'copy the key string to the clipboard even when stdout is not a terminal')
    .option('--no-copy', 'do not copy the key string to the clipboard')
    .addHelpText(
      'after',
      `${examples(
        'akm rotate deploy-bot                              # asks first; the old secret stops at once',
        'akm rotate deploy-bot --grace 1h --yes',
        'akm rotate deploy-bot --grace auto --yes           # the old secret works until unused for 1h',
        'akm show deploy-bot                                # who still uses the old secret',
        'akm rotate deploy-bot --finish --yes               # stop the old secret now',
        'akm rotate AKMEXAMPLE7Q2XK4ZL5PA --grace 1h --json > new-key.json',
      )}
--grace auto ends the grace by itself once no use of the old secret has been seen (through akm serve:
signed requests and /v1/verify) for the quiet period, 30 days after the rotation at the latest, and
never past the key's expiry. Its end is audited (quiet, cap or finish) and told to the owner.
`,
    )
    .action(async (key: string, flags: RotateOptions, command: Command) => runRotate(key, flags, ctx.deps(command)));
}

function consequence(grace: GraceChoice, typed: string | undefined): string {
  if (grace.kind === 'fixed') return `The old one keeps working for ${printable(typed ?? '')}.`;
  if (grace.kind === 'auto')
    return `The old one keeps working until nothing has used it for ${describeDuration(grace.quietForMs)}.`;
  return 'The old one stops working at once.';
}

export async function runRotate(ref: string, options: RotateOptions, deps: Deps): Promise<void> {
  if (options.finish) return runFinish(ref, deps);
  const grace = graceFromFlags(options);
  // Without a terminal there is nobody to ask: scripts rotate on purpose. A person is asked,
  // and an old secret that stops working at once is destructive, so the default is No.
  const cutShort = deps.global.yes === true ? '' : await graceCutShort(ref, deps);
  const go =
    deps.global.yes === true ||
    (await deps.prompter.confirm({
      message: `Issue a new secret for ${printable(ref)}? ${consequence(grace, options.grace)}${cutShort}`,
      flag: '--yes',
      default: false,
      fallback: true,
    }));
  if (!go) throw new CancelledError('not rotated');
  const issued = await (await deps.service()).rotateKey(ref, grace);
  printIssuedKey(deps.io, issued, deps.now());
  await copyKeyString(deps, issued.keyString, options.copy);
}

/**
 * A key keeps one previous secret: rotating again during a grace ends the older one at once,
 * which whatever still uses it should not learn by breaking. Said to a person before they agree.
 */
async function graceCutShort(ref: string, deps: Deps): Promise<string> {
  if (!deps.prompter.canPrompt) return '';
  const service = await deps.service();
  // The service says whether the previous secret is still accepted (a fixed or an automatic grace).
  const inGrace = await service.showKey(ref).then(
    (key) => key.grace !== null,
    () => false, // the rotation itself says what is wrong with the key
  );
  return inGrace ? ' The secret replaced by its last rotation, still in its grace, stops working now.' : '';
}

async function runFinish(ref: string, deps: Deps): Promise<void> {
  const service = await deps.service();
  await confirmDestructive(
    deps,
    `End the grace of ${printable(ref)} now? Whatever still uses its old secret stops working.`,
    'grace not ended',
  );
  const key = await service.finishGrace(ref);
  if (deps.io.json) return deps.io.outJson(key);
  deps.io.info(`the previous secret of ${key.accessKeyId} ("${printable(key.name)}") no longer works`);
  deps.io.out(keyTable(deps.io, [key], deps.now()));
}
