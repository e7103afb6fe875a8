/**
 * The text of the expiry e-mail, rendered when the mail is sent (so "in 2 days" is true at
 * delivery, even on a retry). It names the key and says how to extend it; it never contains a
 * secret, and everything a person typed is neutralised so it cannot forge headers or lines.
 */
import { createRequire } from 'node:module';
import { printable } from '../core/validate.js';
import type { MailReason } from './expiryPlan.js';

export interface ExpiryMailPayload {
  accessKeyId: string;
  keyName: string;
  tenantId: string;
  tenantName: string;
  owner: string | null;
  expiresAt: string;
  reasons: MailReason[];
}

export interface RenderedMail {
  subject: string;
  text: string;
}

/** "2027-01-31 12:00 UTC" */
export function utcMinute(iso: string): string {
  return `${new Date(iso).toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

type DistanceModule = typeof import('date-fns/formatDistanceStrict');
let distance: DistanceModule['formatDistanceStrict'] | undefined;

/**
 * "in 2 days" or "3 hours ago". date-fns loads on the first call: the service imports this
 * module (policy notices, canary alerts), and every command would otherwise pay for loading it.
 */
export function relativeTo(iso: string, now: Date): string {
  distance ??= (createRequire(import.meta.url)('date-fns/formatDistanceStrict') as DistanceModule).formatDistanceStrict;
  return distance(new Date(iso), now, { addSuffix: true });
}

const REASON_TEXT: Record<MailReason, string> = {
  owner: 'it is your key',
  administrator: 'you are a member of Administrators',
  creator: 'you created this key',
  modifier: 'you were the last to modify this key',
};

export function reasonsSentence(reasons: MailReason[]): string {
  const parts = reasons.map((r) => REASON_TEXT[r]);
  if (parts.length <= 1) return parts.join('');
  return `${parts.slice(0, -1).join(', ')} and ${parts[parts.length - 1]}`;
}

export function renderExpiryMail(p: ExpiryMailPayload, now: Date): RenderedMail {
  const name = printable(p.keyName, 64);
  const expired = Date.parse(p.expiresAt) <= now.getTime();
  const when = relativeTo(p.expiresAt, now);
  const verb = expired ? `expired ${when}` : `expires ${when}`;
  const subject = `[akm] Access key "${name}" (${p.accessKeyId}) in tenant ${p.tenantId} ${verb}`;
  const lines = [
    `The akm access key "${name}" ${verb}.`,
    '',
    `  Name:        ${name}`,
    `  Access key:  ${p.accessKeyId}`,
    `  Tenant:      ${printable(p.tenantName, 64)} (${p.tenantId})`,
    `  Owner:       ${p.owner ? printable(p.owner) : 'none (a tenant-level key)'}`,
    `  Expires:     ${utcMinute(p.expiresAt)} (${when})`,
    '',
    expired
      ? 'It no longer authenticates. Extending it brings it back with the same id:'
      : 'To keep it working, extend it before then, for example by 90 days:',
    '',
    `  akm extend ${p.accessKeyId} --days 90`,
    '',
    'or to a fixed date with --until YYYY-MM-DD. If the key is no longer needed, let it expire',
    `or delete it: akm delete ${p.accessKeyId}`,
    '',
    `You receive this because ${reasonsSentence(p.reasons)}.`,
    'akm sends this notice once for this key and expiry date.',
    '',
    '-- ',
    'akm',
    '',
  ];
  return { subject, text: lines.join('\n') };
}
