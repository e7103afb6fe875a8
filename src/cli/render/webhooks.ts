/** Webhooks and deliveries as people read them. */
import type { DeliveryAttempt, DeliveryReport, NewWebhook, Webhook } from '../../service/types.js';
import { dateCell, printable } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderFields, renderTable, type Cell } from '../io/table.js';

function attempt(io: Io, last: DeliveryAttempt | null, now: Date): Cell {
  if (last === null) return '-';
  const outcome = last.ok
    ? io.style.green(`ok ${last.status ?? ''}`.trim())
    : io.style.red(last.status !== null ? `failed ${last.status}` : `failed: ${printable(last.error ?? '', 60)}`);
  const at = dateCell(io, last.at, { now });
  return typeof at === 'string'
    ? `${outcome} ${at}`
    : { text: `${outcome} ${at.text}`, short: `${outcome} ${at.short}` };
}

export function webhooksTable(io: Io, hooks: Webhook[], now: Date): string {
  return renderTable(
    io,
    [
      { header: 'ID' },
      { header: 'URL', shrinkTo: 24 },
      { header: 'EVENTS', shrinkTo: 12, drop: 'late' },
      { header: 'PENDING', drop: 'early' },
      { header: 'LAST ATTEMPT', shrinkTo: 16, drop: 'early' },
    ],
    hooks.map((h) => [
      h.id,
      printable(h.url, 2048),
      h.events.join(', '),
      String(h.pending),
      attempt(io, h.lastAttempt, now),
    ]),
  );
}

/** The one moment the signing secret is shown: data on stdout, the warning on stderr. */
export function printNewWebhook(io: Io, hook: NewWebhook): void {
  if (io.json) io.outJson(hook);
  else
    io.out(
      renderFields(io, [
        ['id', hook.id],
        ['url', printable(hook.url, 2048)],
        ['events', hook.events.join(', ')],
        ['signing secret', io.style.bold(hook.secret), 'whole'],
      ]),
    );
  io.shownOnce(
    io.errStyle.bold.yellow('! This is the only time the signing secret is shown.') +
      ' Give it to the receiver: it verifies each delivery with it (Standard Webhooks, HMAC-SHA256).',
  );
}

export function deliverySummary(report: DeliveryReport): string {
  const w = report.webhooks;
  const mail =
    report.mail.sent + report.mail.failed > 0 ? `; mail: sent ${report.mail.sent}, failed ${report.mail.failed}` : '';
  const counts = `sent ${w.sent}, failed ${w.failed} (retried later), given up ${w.gaveUp}, waiting ${w.waiting}`;
  return `webhooks: ${counts}${mail}`;
}
