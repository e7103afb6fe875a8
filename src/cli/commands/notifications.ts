/** akm notifications: the bell inbox, newest first, unread marked. */
import { InvalidArgumentError, type Command } from 'commander';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { notificationsTable } from '../render/inbox.js';

export interface NotificationsOptions {
  user?: string;
  unread?: boolean;
  markRead?: boolean;
  limit?: number;
}

export function parseLimit(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text.trim()) || value < 1 || value > 1_000_000)
    throw new InvalidArgumentError('needs a whole number of at least 1');
  return value;
}

export function registerNotifications(program: Command, ctx: CommandContext): void {
  program
    .command('notifications')
    .alias('inbox')
    .description('show the bell notifications: changes to keys that concern you')
    .option('--user <email>', "someone else's inbox (needs users:manage)")
    .option('--unread', 'only notifications not read yet')
    .option('--mark-read', 'mark the notifications shown as read')
    .option('--limit <n>', 'show at most this many (default 100, at most 1000)', parseLimit)
    .addHelpText(
      'after',
      examples(
        'akm notifications',
        'akm notifications --unread --mark-read',
        'akm notifications --user alice@acme.test --json',
      ),
    )
    .action(async (flags: NotificationsOptions, command: Command) => runNotifications(flags, ctx.deps(command)));
}

export async function runNotifications(options: NotificationsOptions, deps: Deps): Promise<void> {
  const { io } = deps;
  const inbox = await (
    await deps.service(options.markRead ? 'write' : 'read')
  ).listNotifications({ user: options.user, unread: options.unread, markRead: options.markRead, limit: options.limit });
  if (io.json) return io.outJson(inbox);
  if (inbox.items.length === 0) {
    io.info(options.unread ? 'no unread notifications' : 'no notifications');
    return;
  }
  io.out(notificationsTable(io, inbox.items, deps.now()));
  const marked = options.markRead ? inbox.items.filter((n) => !n.read).length : 0;
  io.info(`${marked > 0 ? `marked ${marked} read; ` : ''}${inbox.unread} unread`);
}
