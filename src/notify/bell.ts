/**
 * Bell notifications, decided purely from a change to a key:
 * - its assignments changed (`assign`, or groups and roles given at `create`): the owner, the
 *   creator and the last modifier before the change, each once — the actor too when they are
 *   one of these, so everyone concerned has the same record;
 * - a user-level key was deactivated, activated, rotated, extended or deleted by someone other
 *   than its owner: the owner. (Activation is not in the list, but a key coming back to
 *   life behind its owner's back matters as much as one going away.)
 * Messages carry names, ids and dates only, never a secret.
 */
import { sameLabel, uniquePeople } from './recipients.js';

export interface KeyChangeFacts {
  action: string;
  /** the acting user's email, or "key:AKM…" */
  actor: string;
  /** the key as it was before the change */
  key: { id: string; name: string; owner_email: string | null; created_by: string; modified_by: string };
  details: Record<string, unknown>;
}

export interface BellNotice {
  recipients: string[];
  message: string;
}

const OWNER_ACTIONS = new Set(['key.deactivate', 'key.activate', 'key.rotate', 'key.extend', 'key.delete']);

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

function ownerMessage(facts: KeyChangeFacts, subject: string): string {
  const { actor, details } = facts;
  switch (facts.action) {
    case 'key.deactivate':
      return `${actor} deactivated your key ${subject}: it no longer authenticates`;
    case 'key.activate':
      return `${actor} activated your key ${subject}: it authenticates again`;
    case 'key.rotate': {
      const until = text(details.previousSecretValidUntil);
      const old = until ? `works until ${until}` : 'stopped working at once';
      return `${actor} generated a new secret for your key ${subject}; the old secret ${old}`;
    }
    case 'key.extend':
      return (
        `${actor} changed the expiry of your key ${subject} ` +
        `from ${text(details.from) ?? 'never'} to ${text(details.to) ?? 'never'}`
      );
    default:
      return `${actor} deleted your key ${subject}`;
  }
}

export function bellNotice(facts: KeyChangeFacts): BellNotice | null {
  const { action, actor, key, details } = facts;
  const subject = `"${key.name}" (${key.id})`;
  if (action === 'key.create' || action === 'key.assign') {
    const groups = names(details.groups);
    const roles = names(details.roles);
    if (action === 'key.create' && groups.length + roles.length === 0) return null;
    const message =
      action === 'key.create'
        ? `${actor} created the key ${subject} with ${describeAssignments(groups, roles)}`
        : `${actor} changed the assignments of the key ${subject}: ${assignmentDelta(details)}`;
    return { recipients: uniquePeople([key.owner_email, key.created_by, key.modified_by]), message };
  }
  if (OWNER_ACTIONS.has(action) && key.owner_email && !sameLabel(key.owner_email, actor)) {
    return { recipients: uniquePeople([key.owner_email]), message: ownerMessage(facts, subject) };
  }
  return null;
}
