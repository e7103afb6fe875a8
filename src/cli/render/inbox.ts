/** The bell inbox and the expiry mail report as tables. */
import type { ExpiryMessage, Notification } from '../../service/types.js';
import { dateCell, printable } from '../io/format.js';
import type { Io } from '../io/io.js';
import { renderTable } from '../io/table.js';

/** Newest first; unread ones marked with a star (bold on a terminal). */
export function notificationsTable(io: Io, items: Notification[], now: Date): string {
  return renderTable(
    io,
    ['NEW', 'WHEN', { header: 'MESSAGE', shrinkTo: 20 }],
    items.map((n) => {
      const message = printable(n.message, 400);
      return [
        n.read ? '' : io.style.yellow('*'),
        dateCell(io, n.at, { now }),
        n.read ? io.style.dim(message) : io.style.bold(message),
      ];
    }),
  );
}

const STATE_STYLE: Record<ExpiryMessage['state'], (io: Io, text: string) => string> = {
  sent: (io, t) => io.style.green(t),
  failed: (io, t) => io.style.red(t),
  cancelled: (io, t) => io.style.dim(t),
  pending: (_io, t) => t,
};

export function expiryMailTable(io: Io, messages: ExpiryMessage[], dryRun: boolean, now: Date): string {
  return renderTable(
    io,
    [
      { header: 'RECIPIENT', shrinkTo: 14 },
      'KEY',
      { header: 'NAME', shrinkTo: 10, drop: 'late' },
      { header: 'EXPIRES', drop: 'late' },
      dryRun ? 'WOULD' : 'STATE',
      { header: 'ERROR', shrinkTo: 10 },
    ],
    messages.map((m) => {
      const state = dryRun ? (m.state === 'cancelled' ? 'cancel' : m.retry ? 'retry' : 'send') : m.state;
      return [
        printable(m.recipient),
        m.accessKeyId ?? io.style.dim('policy'),
        m.keyName === null ? io.style.dim('(lifetime policy)') : printable(m.keyName),
        dateCell(io, m.expiresAt, { now, empty: 'never', expiry: true }),
        STATE_STYLE[m.state](io, state),
        m.error ? printable(m.error, 120) : '',
      ];
    }),
  );
}
