/**
 * Who is told that a key is about to expire: its owner, every member of Administrators, and the
 * key's creator and last modifier when they are still users of the tenant — each person once,
 * with every reason they have. Pure.
 */
import { isPersonLabel } from './recipients.js';

export type MailReason = 'owner' | 'administrator' | 'creator' | 'modifier';

export interface ExpiringKeyPeople {
  /** null for a tenant-level key */
  owner: string | null;
  createdBy: string;
  modifiedBy: string;
  /** false when the label names nobody in the tenant any more (a removed user) */
  creatorIsUser: boolean;
  modifierIsUser: boolean;
}

export interface Recipient {
  email: string;
  reasons: MailReason[];
}

export function expiryRecipients(key: ExpiringKeyPeople, administrators: string[]): Recipient[] {
  const byEmail = new Map<string, Recipient>();
  const add = (label: string, reason: MailReason) => {
    if (!isPersonLabel(label)) return;
    const email = label.toLowerCase();
    const entry = byEmail.get(email) ?? { email, reasons: [] };
    if (!entry.reasons.includes(reason)) entry.reasons.push(reason);
    byEmail.set(email, entry);
  };
  if (key.owner !== null) add(key.owner, 'owner');
  for (const admin of [...administrators].sort()) add(admin, 'administrator');
  if (key.creatorIsUser) add(key.createdBy, 'creator');
  if (key.modifierIsUser) add(key.modifiedBy, 'modifier');
  return [...byEmail.values()];
}

/** The moment up to which keys count as expiring: `now` plus whole days. */
export function windowEnd(now: Date, withinDays: number): Date {
  return new Date(now.getTime() + withinDays * 86_400_000);
}
