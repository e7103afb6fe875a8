/**
 * Bell notifications, decided purely from a change to a key. Every person the change concerns
 * is told — the key's owner, the tenant's administrators, its creator and its last modifier
 * before the change — each once, and never the person who made the change: they know.
 * The owner reads about "your key"; everyone else about whose key it is. Messages carry names,
 * ids and dates only, never a secret.
 */
import { isPersonLabel, sameLabel, uniquePeople } from './recipients.js';

export interface KeyChangeFacts {
  action: string;
  /** the acting user's email, or "key:AKM…" */
  actor: string;
  /** the key as it was before the change */
  key: { id: string; name: string; owner_email: string | null; created_by: string; modified_by: string };
  details: Record<string, unknown>;
  /** the members of Administrators */
  administrators: string[];
}

export interface BellNotice {
  recipient: string;
  message: string;
}

const KEY_ACTIONS = new Set([
  'key.create',
  'key.assign',
  'key.deactivate',
  'key.activate',
  'key.rotate',
  'key.extend',
  'key.edit',
  'key.delete',
  'key.grace_ended',
]);

function names(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string') : [];
}

function text(value: unknown): string | null {
  return typeof value === 'string' ? value : null;
}

/** "group Deployers, roles ReadOnly and Ingestion" */
export function describeAssignments(groups: string[], roles: string[]): string {
  const part = (noun: string, list: string[]) =>
    list.length === 0 ? [] : [`${noun}${list.length > 1 ? 's' : ''} ${list.join(', ')}`];
  return [...part('group', groups), ...part('role', roles)].join(' and ');
}

function assignmentDelta(details: Record<string, unknown>): string {
  const added = describeAssignments(names(details.addedGroups), names(details.addedRoles));
  const removed = describeAssignments(names(details.removedGroups), names(details.removedRoles));
  return [added && `added ${added}`, removed && `removed ${removed}`].filter(Boolean).join('; ');
}

/** The sentence for one reader: `subject` is "your key …" for the owner, "the key … of bob@…" for the others. */
function message(facts: KeyChangeFacts, subject: string): string {
  const { actor, details } = facts;
  switch (facts.action) {
    case 'key.create': {
      const assigned = describeAssignments(names(details.groups), names(details.roles));
      return `${actor} created ${subject}${assigned ? ` with ${assigned}` : ''}`;
    }
    case 'key.assign':
      return `${actor} changed the assignments of ${subject}: ${assignmentDelta(details)}`;
    case 'key.deactivate': {
      const until = text(details.inactiveUntil);
      return until
        ? `${actor} deactivated ${subject} until ${until} (a brownout): it authenticates again after that`
        : `${actor} deactivated ${subject}: it no longer authenticates`;
    }
    case 'key.grace_ended':
      return `${actor} ended the grace of ${subject}: its old secret no longer works`;
    case 'key.activate':
      return `${actor} activated ${subject}: it authenticates again`;
    case 'key.rotate': {
      const until = text(details.previousSecretValidUntil);
      const old = until ? `works until ${until}` : 'stopped working at once';
      return `${actor} generated a new secret for ${subject}; the old secret ${old}`;
    }
    case 'key.extend':
      return (
        `${actor} changed the expiry of ${subject} ` +
        `from ${text(details.from) ?? 'never'} to ${text(details.to) ?? 'never'}`
      );
    case 'key.edit': {
      const from = details.from as { name?: unknown } | undefined;
      const to = details.to as { name?: unknown } | undefined;
      const renamed = text(to?.name) !== null && text(to?.name) !== text(from?.name);
      return renamed
        ? `${actor} renamed ${subject} to "${text(to?.name)}"`
        : `${actor} changed the description of ${subject}`;
    }
    default:
      return `${actor} deleted ${subject}`;
  }
}

export function bellNotices(facts: KeyChangeFacts): BellNotice[] {
  if (!KEY_ACTIONS.has(facts.action)) return [];
  const { key, actor } = facts;
  const recipients = uniquePeople([key.owner_email, ...facts.administrators, key.created_by, key.modified_by]).filter(
    (person) => !sameLabel(person, actor),
  );
  const named = `"${key.name}" (${key.id})`;
  const others = isPersonLabel(key.owner_email)
    ? `the key ${named} of ${key.owner_email}`
    : `the tenant-level key ${named}`;
  return recipients.map((recipient) => ({
    recipient,
    message: message(facts, sameLabel(recipient, key.owner_email) ? `your key ${named}` : others),
  }));
}
