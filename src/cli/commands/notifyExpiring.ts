/**
 * akm notify-expiring: e-mail about keys that expire soon (SMTP from AKM_SMTP_URL and
 * AKM_MAIL_FROM). Meant for cron; exits 6 when some mail could not be delivered, so cron
 * reports it — that mail stays queued and the next run retries it.
 */
import { type Command } from 'commander';
import { UnavailableError } from '../../core/errors.js';
import { parseDays } from '../../core/expiry.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { plural } from '../io/format.js';
import { expiryMailTable } from '../render/inbox.js';

export interface NotifyExpiringCliOptions {
  within: string;
  dryRun?: boolean;
}

export function registerNotifyExpiring(program: Command, ctx: CommandContext): void {
  program
    .command('notify-expiring')
    .description(
      'e-mail owners, administrators, creators and last modifiers about keys expiring soon (once per key and date)',
    )
    .option('--within <days>', 'keys that expire within this many days', '2')
    .option('--dry-run', 'show who would get what; send and record nothing')
    .addHelpText(
      'after',
      `${examples(
        'akm notify-expiring --dry-run',
        'AKM_SMTP_URL=smtp://akm:PASSWORD@mail.acme.test:587 AKM_MAIL_FROM=akm@acme.test akm notify-expiring',
        'akm notify-expiring --within 7 --json',
      )}
Environment:
  AKM_SMTP_URL   smtp://user:password@host:587 (STARTTLS; required with a password unless the host
                 is loopback) or smtps://user:password@host:465; percent-encode special characters
  AKM_MAIL_FROM  the sender, e.g. "akm <akm@acme.test>" (default akm@<hostname>)

Cron (hourly; each key and date is mailed once, failures are retried at the next run; cron has
no keychain session, so give the master key as a file; keep the SMTP password in a 0600 file
of export lines: AKM_SMTP_URL, AKM_MAIL_FROM, AKM_STORE, AKM_MASTER_KEY_FILE):
  0 * * * *  . /etc/akm/mail.env && akm notify-expiring --quiet
`,
    )
    .action(async (flags: NotifyExpiringCliOptions, command: Command) => runNotifyExpiring(flags, ctx.deps(command)));
}

export async function runNotifyExpiring(options: NotifyExpiringCliOptions, deps: Deps): Promise<void> {
  const { io } = deps;
  const withinDays = parseDays(options.within, '--within');
  const showProgress = io.terminal.stderrIsTTY && !io.options.quiet;
  const progress = showProgress
    ? (done: number, total: number) => io.streams.stderr.write(`\rsending ${done}/${total}…`)
    : undefined;
  const result = await (await deps.service()).notifyExpiring({ withinDays, dryRun: options.dryRun === true }, progress);
  if (showProgress && result.messages.length > 0 && !result.dryRun) io.streams.stderr.write('\r\u001b[K');

  if (io.json) io.outJson(result);
  else if (result.messages.length > 0) {
    io.out(expiryMailTable(io, result.messages, result.dryRun, deps.now()));
  }
  const keys = `${plural(result.keys, 'key')} newly expiring within ${plural(withinDays, 'day')}`;
  if (result.dryRun) {
    const wouldSend = result.messages.filter((m) => m.state !== 'cancelled').length;
    io.info(`dry run: ${keys}; would send ${plural(wouldSend, 'message')}; nothing sent or recorded`);
  } else io.info(`${keys}; sent ${result.sent}, failed ${result.failed}, cancelled ${result.cancelled}`);
  if (result.failed > 0) {
    const last = result.messages.find((m) => m.state === 'failed')?.error ?? undefined;
    throw new UnavailableError(
      `${result.failed} of ${plural(result.sent + result.failed, 'message')} could not be delivered; ` +
        'they stay queued and the next run retries them',
      { hint: last ? `the mail server said: ${last}` : undefined, code: 'mail_undelivered' },
    );
  }
}
