/**
 * Sending mail over SMTP with nodemailer, configured by AKM_SMTP_URL (smtp:// with STARTTLS
 * when the server offers it — required when the URL carries credentials for a remote host — or
 * smtps:// for TLS from the start) and AKM_MAIL_FROM. Query parameters pass nodemailer options
 * (e.g. ?tls.servername=…). The URL's password never appears in an error or in the outbox.
 */
import { hostname } from 'node:os';
import { UsageError } from '../core/errors.js';
import { printable } from '../core/validate.js';

export interface MailSettings {
  /** e.g. smtp://user:password@mail.example.com:587 */
  url: string;
  /** the From address, e.g. "akm <akm@example.com>" */
  from: string;
}

export interface OutgoingMail {
  to: string;
  subject: string;
  text: string;
}

export interface MailSender {
  /** resolves with the message id once the server accepted the message; rejects with a redacted error */
  send(mail: OutgoingMail): Promise<{ messageId: string }>;
  close(): void;
}

/**
 * Read at the edge (the local service is built with it); validated only when mail is sent, so a
 * bad value breaks no other command.
 */
export function mailSettingsFromEnv(env: NodeJS.ProcessEnv): MailSettings | null {
  const url = env.AKM_SMTP_URL?.trim();
  if (!url) return null;
  return { url, from: env.AKM_MAIL_FROM?.trim() || `akm@${hostname()}` };
}

const HINT =
  'set AKM_SMTP_URL to smtp://user:password@host:587 (or smtps://host:465) and AKM_MAIL_FROM to the sender address';

export function requireMailSettings(settings: MailSettings | null): MailSettings {
  if (!settings)
    throw new UsageError('AKM_SMTP_URL is not set: akm has no mail server to send through', {
      hint: `${HINT}; or use --dry-run`,
      code: 'smtp_not_configured',
    });
  return settings;
}

function parseSmtpUrl(text: string): URL {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new UsageError('AKM_SMTP_URL is not a valid URL', { hint: HINT, code: 'smtp_url_invalid' });
  }
  if (url.protocol !== 'smtp:' && url.protocol !== 'smtps:') {
    throw new UsageError(`AKM_SMTP_URL must start with smtp:// or smtps://, not ${printable(url.protocol)}//`, {
      hint: HINT,
      code: 'smtp_url_invalid',
    });
  }
  return url;
}

/** Remove the URL's password (raw and decoded) from a message, and anything a terminal would interpret. */
export function redact(message: string, settings: MailSettings): string {
  let text = message;
  try {
    const password = new URL(settings.url).password;
    for (const secret of new Set([password, decodeURIComponent(password)]))
      if (secret.length > 0) text = text.split(secret).join('***');
  } catch {
    // an unparsable URL was refused before any mail was sent: nothing of it is in the message
  }
  return printable(text.split(settings.url).join('AKM_SMTP_URL'), 500);
}

export function describeSmtpError(error: unknown, settings: MailSettings): string {
  const e = error as { message?: string; code?: string; responseCode?: number };
  const parts = [
    e.code,
    e.responseCode && !String(e.message).includes(String(e.responseCode)) ? String(e.responseCode) : undefined,
    e.message ?? String(error),
  ];
  return redact(parts.filter(Boolean).join(': '), settings);
}

const LOOPBACK = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);

/** nodemailer's options for this URL (exported for the tests). */
export function transportOptions(settings: MailSettings) {
  const url = parseSmtpUrl(settings.url);
  return {
    url: settings.url,
    // One pooled connection for the whole run; short timeouts so a dead server fails the run in
    // seconds, well inside the outbox lease, instead of nodemailer's default ten minutes.
    pool: true,
    maxConnections: 1,
    connectionTimeout: 10_000,
    greetingTimeout: 10_000,
    socketTimeout: 30_000,
    // A password must not cross the network in clear: with credentials, smtp:// to another host
    // insists on STARTTLS (a relay on loopback may go without; ?requireTLS=false overrides).
    requireTLS: url.protocol === 'smtp:' && url.username !== '' && !LOOPBACK.has(url.hostname),
    disableFileAccess: true,
    disableUrlAccess: true,
  };
}

/** nodemailer is loaded here, on first use: no other command pays for loading it. */
export async function smtpSender(settings: MailSettings): Promise<MailSender> {
  const options = transportOptions(settings);
  const { default: nodemailer } = await import('nodemailer');
  const transport = nodemailer.createTransport(options);
  return {
    async send(mail) {
      try {
        const info = await transport.sendMail({
          from: settings.from,
          to: mail.to,
          subject: mail.subject,
          text: mail.text,
          headers: { 'Auto-Submitted': 'auto-generated' },
        });
        return { messageId: String(info.messageId ?? '') };
      } catch (error) {
        throw new Error(describeSmtpError(error, settings));
      }
    },
    close: () => transport.close(),
  };
}
