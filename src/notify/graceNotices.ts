/**
 * The bell when a rotation's grace ends by itself: the key's owner and the administrator who
 * rotated it hear that the old secret no longer works, and why. Pure, like bell.ts.
 */
import type { BellNotice } from './bell.js';
import { isPersonLabel, sameLabel, uniquePeople } from './recipients.js';

export interface GraceEndFacts {
  key: { id: string; name: string; owner_email: string | null; rotated_by: string | null };
  reason: 'quiet' | 'cap';
}

const WHY = {
  quiet: 'nothing had used it for its quiet period',
  cap: 'it reached its latest end',
};

export function graceEndNotices(facts: GraceEndFacts): BellNotice[] {
  const { key } = facts;
  const named = `"${key.name}" (${key.id})`;
  const others = isPersonLabel(key.owner_email)
    ? `the key ${named} of ${key.owner_email}`
    : `the tenant-level key ${named}`;
  return uniquePeople([key.owner_email, key.rotated_by]).map((recipient) => ({
    recipient,
    message:
      `the old secret of ${sameLabel(recipient, key.owner_email) ? `your key ${named}` : others} ` +
      `no longer works: ${WHY[facts.reason]} (grace ended: ${facts.reason})`,
  }));
}
