/**
 * The interactive side of `akm create`: asks for whatever the flags left open, checking each
 * answer as it is given (an owner at the key limit cannot be picked, a taken name is refused at
 * the name prompt), so nothing typed is lost to a refusal after the final "Create?". With no
 * flags at all it walks through everything (type, groups, roles too) and confirms a summary.
 */
import { AkmError, CancelledError } from '../../core/errors.js';
import type { ExpiryChoice } from '../../core/expiry.js';
import { MAX_KEYS_PER_USER } from '../../core/limits.js';
import * as validate from '../../core/validate.js';
import type { AkmService, KeyType } from '../../service/types.js';
import { expiryMoment, localDateTime } from '../io/dates.js';
import { list } from '../io/format.js';
import type { Io } from '../io/io.js';
import { missingError, type Prompter } from '../io/prompter.js';
import { renderFields } from '../io/table.js';
import { askExpiry } from './expiry.js';
import { validator } from './validator.js';

export const API_TYPE_WARNING = 'api keys are for data-ingestion integrations only; most programs need an access key';
const TENANT_LEVEL = Symbol('tenant-level');

export interface CreateDraft {
  name?: string;
  type?: KeyType;
  expiry?: ExpiryChoice;
  /** email, null for tenant-level, undefined when not decided yet */
  owner?: string | null;
  groups?: string[];
  roles?: string[];
}

export async function askType(prompter: Prompter, io: Io): Promise<KeyType> {
  for (;;) {
    const type = await prompter.select<KeyType>({
      message: 'Type',
      flag: '--type <access|api>',
      choices: [
        { name: 'access — programmatic access (recommended)', value: 'access' },
        { name: 'api — data-ingestion integrations only', value: 'api' },
      ],
      default: 'access',
    });
    if (type === 'access') return type;
    io.warn(API_TYPE_WARNING);
    if (await prompter.confirm({ message: 'Create an api key?', flag: '--type api', default: false })) return type;
  }
}

/** Users at the limit are listed but cannot be picked, with the reason beside them. */
async function askOwner(prompter: Prompter, service: AkmService, me: string): Promise<string | null> {
  const users = await service.listUsers();
  const picked = await prompter.select<string | typeof TENANT_LEVEL>({
    message: 'Owner',
    flag: '--owner <email> or --tenant-level',
    choices: [
      ...users.map((u) => ({
        name:
          validate.printable(u.email) +
          (u.email === me ? ' (you)' : '') +
          (u.keyCount > 0 ? ` (${u.keyCount}/${MAX_KEYS_PER_USER} keys)` : ''),
        value: u.email,
        disabled:
          u.keyCount >= MAX_KEYS_PER_USER
            ? `already owns ${MAX_KEYS_PER_USER} keys, the most a user may have`
            : undefined,
      })),
      { name: '(tenant-level key, no owner)', value: TENANT_LEVEL },
    ],
  });
  return picked === TENANT_LEVEL ? null : picked;
}

/** Is a key with this name already there for this owner (null: among tenant-level keys)? */
async function nameTaken(service: AkmService, owner: string | null, name: string): Promise<boolean> {
  const same = (other: string) => other.toLowerCase() === name.toLowerCase();
  if (owner !== null) return (await service.listKeys({ owner })).items.some((k) => same(k.name));
  try {
    return (await service.showKey(name)).owner === null;
  } catch (error) {
    // None by that name, or several (owned by others or not): the service has the last word.
    if (error instanceof AkmError && (error.code === 'key_not_found' || error.code === 'ambiguous_key')) return false;
    throw error;
  }
}

async function askName(prompter: Prompter, service: AkmService, owner: string | null | undefined): Promise<string> {
  return prompter.input({
    message: 'Name (a label for people)',
    flag: '--name <name>',
    validate: validator(async (value) => {
      const name = validate.entityName(value, 'key name');
      if (owner !== undefined && (await nameTaken(service, owner, name)))
        throw new Error(
          `a key named "${validate.printable(name)}" already exists ${owner ? `for ${owner}` : 'at tenant level'}`,
        );
    }),
  });
}

/** An administrator or a tenant-level key must say whose key it is; a user's own key is theirs. */
function mustNameOwner(me: { admin: boolean; actor: string }): boolean {
  return me.admin || me.actor.startsWith('key:');
}

/**
 * Without a terminal nobody can be asked: every flag still missing, named in one error, so a
 * pipeline is fixed in one go. A missing owner alone is left to the service, which decides it
 * (a user's own key) or names it.
 */
export async function refuseIncompleteDraft(draft: CreateDraft, service: () => Promise<AkmService>): Promise<void> {
  const missing: string[] = [];
  if (draft.name === undefined) missing.push('--name <name>');
  if (draft.expiry === undefined) missing.push('--expires-in <days> (or --expires-on <date>, --never-expires)');
  if (missing.length === 0) return;
  if (draft.owner === undefined && mustNameOwner(await (await service()).whoami()))
    missing.push('--owner <email> (or --tenant-level)');
  const why = draft.expiry ? '' : '; there is no default validity on purpose';
  throw missingError(missing, { hint: `no terminal to ask on (or --no-input/CI is set)${why}` });
}

export async function completeDraft(
  draft: CreateDraft,
  full: boolean,
  deps: { prompter: Prompter; io: Io; service: AkmService; now: () => Date },
) {
  const { prompter, io, service } = deps;
  // A user who is not an administrator creates keys for themselves: nothing to ask. Without a
  // terminal an undecided owner stays undecided, and the service decides the same way (or
  // asks an administrator to say).
  let owner = draft.owner;
  if (owner === undefined && prompter.canPrompt) {
    const me = await service.whoami();
    owner = mustNameOwner(me) ? await askOwner(prompter, service, me.actor) : me.actor;
  }
  const name = draft.name ?? (await askName(prompter, service, owner));
  const type = draft.type ?? (full ? await askType(prompter, io) : 'access');
  const expiry = draft.expiry ?? (await askExpiry(prompter, io, deps.now));
  const groups =
    draft.groups ??
    (full
      ? await prompter.checkbox({
          message: 'Groups (space to select, enter to go on)',
          flag: '--group <name>',
          choices: (await service.listGroups()).map((g) => ({ name: g.name, value: g.name })),
        })
      : []);
  const roles =
    draft.roles ??
    (full
      ? await prompter.checkbox({
          message: 'Roles (space to select, enter to go on)',
          flag: '--role <name>',
          choices: (await service.listRoles()).map((r) => ({
            name: `${r.name} (${r.permissions.join(', ')})`,
            value: r.name,
          })),
        })
      : []);
  const complete = { name, type, expiry, owner, groups, roles };
  if (full && owner !== undefined) {
    io.notice(renderFields(io, summary({ ...complete, owner }, deps.now())));
    if (!(await prompter.confirm({ message: 'Create this key?', flag: '--yes', default: true })))
      throw new CancelledError('not created');
  }
  return complete;
}

function summary(
  draft: Required<Omit<CreateDraft, 'owner'>> & { owner: string | null },
  now: Date,
): Array<[string, string]> {
  const validity =
    draft.expiry.kind === 'never'
      ? 'never expires'
      : draft.expiry.kind === 'days'
        ? `${draft.expiry.days} days (until ${localDateTime(new Date(now.getTime() + draft.expiry.days * 86_400_000))})`
        : `until ${localDateTime(expiryMoment(draft.expiry.at))}`;
  return [
    ['name', validate.printable(draft.name)],
    ['type', draft.type],
    ['validity', validity],
    ['owner', draft.owner === null ? '(tenant-level)' : validate.printable(draft.owner)],
    ['groups', list(draft.groups)],
    ['roles', list(draft.roles)],
  ];
}
