/**
 * The interactive side of `akm create`: asks for whatever the flags left open. With no flags
 * at all it walks through everything (type, groups, roles too) and confirms a summary.
 */
import { CancelledError } from '../../core/errors.js';
import type { ExpiryChoice } from '../../core/expiry.js';
import * as validate from '../../core/validate.js';
import type { AkmService, KeyType } from '../../service/types.js';
import { list } from '../io/format.js';
import type { Io } from '../io/io.js';
import type { Prompter } from '../io/prompter.js';
import { renderFields } from '../io/table.js';
import { askExpiry } from './expiry.js';

export const API_TYPE_WARNING = 'api keys are for data-ingestion integrations only; most programs need an access key';
export const TENANT_LEVEL = Symbol('tenant-level');

export interface CreateDraft {
  name?: string;
  type?: KeyType;
  expiry?: ExpiryChoice;
  /** email, null for tenant-level, undefined when not decided yet */
  owner?: string | null;
  groups?: string[];
  roles?: string[];
}

function validator(check: (value: string) => unknown): (value: string) => string | true {
  return (value) => {
    try {
      check(value);
      return true;
    } catch (error) {
      return (error as Error).message;
    }
  };
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

async function askOwner(prompter: Prompter, service: AkmService): Promise<string | null> {
  const users = await service.listUsers();
  const picked = await prompter.select<string | typeof TENANT_LEVEL>({
    message: 'Owner',
    flag: '--owner <email> or --tenant-level',
    choices: [
      ...users.map((u) => ({
        name: `${validate.printable(u.email)}${u.keyCount > 0 ? ` (${u.keyCount}/2 keys)` : ''}`,
        value: u.email,
      })),
      { name: '(tenant-level key, no owner)', value: TENANT_LEVEL },
    ],
  });
  return picked === TENANT_LEVEL ? null : picked;
}

export async function completeDraft(
  draft: CreateDraft,
  full: boolean,
  deps: { prompter: Prompter; io: Io; service: AkmService; now: () => Date },
) {
  const { prompter, io, service } = deps;
  const name =
    draft.name ??
    (await prompter.input({
      message: 'Name (a label for people)',
      flag: '--name <name>',
      validate: validator((v) => validate.entityName(v, 'key name')),
    }));
  const type = draft.type ?? (full ? await askType(prompter, io) : 'access');
  const expiry = draft.expiry ?? (await askExpiry(prompter, io, deps.now));
  const owner = draft.owner !== undefined ? draft.owner : await askOwner(prompter, service);
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
  if (full) {
    io.notice(renderFields(io, summary(complete)));
    if (!(await prompter.confirm({ message: 'Create this key?', flag: '--yes', default: true })))
      throw new CancelledError('not created');
  }
  return complete;
}

function summary(draft: Required<CreateDraft>): Array<[string, string]> {
  const validity =
    draft.expiry.kind === 'never'
      ? 'never expires'
      : draft.expiry.kind === 'days'
        ? `${draft.expiry.days} days`
        : `until ${draft.expiry.at.toISOString()}`;
  return [
    ['name', validate.printable(draft.name)],
    ['type', draft.type],
    ['validity', validity],
    ['owner', draft.owner === null ? '(tenant-level)' : draft.owner],
    ['groups', list(draft.groups)],
    ['roles', list(draft.roles)],
  ];
}
