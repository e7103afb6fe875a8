/**
 * akm deliver: send what a local store has queued (webhook events, alert mail), for cron. A
 * server delivers by itself. Exits 6 when something could not be delivered: it stays queued and
 * is tried again (webhooks with growing waits, given up after 24 hours with a bell).
 */
import type { Command } from 'commander';
import { UnavailableError } from '../../core/errors.js';
import { plural } from '../io/format.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { deliverySummary } from '../render/webhooks.js';

export function registerDeliver(program: Command, ctx: CommandContext): void {
  program
    .command('deliver')
    .description('send the webhook events and alert mail a local store has queued (for cron)')
    .addHelpText(
      'after',
      `${examples('akm deliver', 'akm deliver --json')}
Cron, every minute (akm serve does this by itself; cron has no keychain session, so give the
master key as a file):
  * * * * *  akm --store /var/lib/akm/akm.db --master-key-file /etc/akm/master.key deliver --quiet
`,
    )
    .action(async (_flags: object, command: Command) => runDeliver(ctx.deps(command)));
}

export async function runDeliver(deps: Deps): Promise<void> {
  const report = await (await deps.service()).deliver();
  if (deps.io.json) deps.io.outJson(report);
  deps.io.info(deliverySummary(report));
  const failed = report.webhooks.failed + report.mail.failed;
  if (failed > 0)
    throw new UnavailableError(`${plural(failed, 'delivery attempt')} failed, kept in the queue to be tried again`, {
      hint: 'akm webhooks list shows what each endpoint answered',
      code: 'webhook_undelivered',
    });
}
