/** akm webhooks add|list|remove|test: signed webhooks on key events (administrators only). */
import type { Command } from 'commander';
import { UnavailableError } from '../../core/errors.js';
import { parseEvents, WEBHOOK_EVENTS } from '../../core/webhooks.js';
import { printable } from '../../core/validate.js';
import { examples, type CommandContext } from '../command.js';
import { confirmDestructive } from '../confirm.js';
import type { Deps } from '../deps.js';
import { helpOrUnknown } from '../parsing.js';
import { renderFields } from '../io/table.js';
import { printNewWebhook, webhooksTable } from '../render/webhooks.js';

export function registerWebhooks(program: Command, ctx: CommandContext): void {
  const webhooks = helpOrUnknown(
    program.command('webhooks').description('send signed events about keys to your own endpoints (administrators)'),
  );
  webhooks
    .command('add')
    .description('add an endpoint; its signing secret is shown once')
    .argument('<url>', 'https://…, or http:// to a loopback address such as 127.0.0.1')
    .option('--events <list>', `comma-separated event types, or * for all (default): ${WEBHOOK_EVENTS.join(', ')}`)
    .addHelpText(
      'after',
      `${examples(
        'akm webhooks add https://hooks.acme.test/akm',
        'akm webhooks add https://siem.acme.test/in --events key.canary_tripped,key.deleted --json > hook.json',
      )}
Each event is a POST with a JSON body {"type","timestamp","data"} and the Standard Webhooks
headers webhook-id (the same on every retry: dedupe on it), webhook-timestamp and
webhook-signature ("v1," + base64 HMAC-SHA256 of "<id>.<timestamp>.<body>" with the secret).
Any Standard Webhooks library verifies it with the whsec_ secret as given.
`,
    )
    .action(async (url: string, flags: { events?: string }, command: Command) =>
      runWebhooksAdd(url, flags, ctx.deps(command)),
    );
  webhooks
    .command('list')
    .alias('ls')
    .description('list endpoints, what they receive, and how the last delivery went')
    .addHelpText('after', examples('akm webhooks list', 'akm webhooks list --json'))
    .action(async (_flags: object, command: Command) => runWebhooksList(ctx.deps(command)));
  webhooks
    .command('remove')
    .alias('rm')
    .description('remove an endpoint; what is still queued for it is dropped (asks first)')
    .argument('<id>', 'the webhook id (wh_…)')
    .addHelpText('after', examples('akm webhooks remove wh_7Q2XK4ZL5PAB3C4D --yes'))
    .action(async (id: string, _flags: object, command: Command) => runWebhooksRemove(id, ctx.deps(command)));
  webhooks
    .command('test')
    .description('send a signed webhook.test event now and report what the endpoint answered')
    .argument('<id>', 'the webhook id (wh_…)')
    .addHelpText('after', examples('akm webhooks test wh_7Q2XK4ZL5PAB3C4D'))
    .action(async (id: string, _flags: object, command: Command) => runWebhooksTest(id, ctx.deps(command)));
}

export async function runWebhooksAdd(url: string, flags: { events?: string }, deps: Deps): Promise<void> {
  const hook = await (await deps.service()).addWebhook({ url, events: parseEvents(flags.events) });
  printNewWebhook(deps.io, hook);
}

export async function runWebhooksList(deps: Deps): Promise<void> {
  const hooks = await (await deps.service('read')).listWebhooks();
  if (deps.io.json) return deps.io.outJson(hooks);
  if (hooks.length === 0) return deps.io.info('no webhooks; add one with: akm webhooks add <url>');
  deps.io.out(webhooksTable(deps.io, hooks, deps.now()));
}

export async function runWebhooksRemove(id: string, deps: Deps): Promise<void> {
  const service = await deps.service();
  await confirmDestructive(deps, `Remove the webhook ${printable(id)}? Nothing more is sent to it.`, 'not removed');
  const hook = await service.removeWebhook(id);
  if (deps.io.json) return deps.io.outJson({ removed: true, ...hook });
  deps.io.info(`removed ${hook.id} (${printable(hook.url, 2048)})`);
}

export async function runWebhooksTest(id: string, deps: Deps): Promise<void> {
  const result = await (await deps.service()).testWebhook(id);
  const { io } = deps;
  if (io.json) io.outJson(result);
  else
    io.out(
      renderFields(io, [
        ['webhook', result.id],
        ['event id', result.eventId],
        ['delivered', result.delivered ? io.style.green('yes') : io.style.red('no')],
        ['status', result.status === null ? '-' : String(result.status)],
        ...(result.error ? [['error', printable(result.error)] as [string, string]] : []),
      ]),
    );
  if (!result.delivered)
    throw new UnavailableError(`the test event was not delivered to ${result.id}`, {
      hint: result.error ? `the endpoint: ${printable(result.error)}` : undefined,
      code: 'webhook_undelivered',
    });
}
