/**
 * The questions of an interactive `akm init`: the tenant's name, its id (suggested from the name),
 * the first administrator.
 */
import { BASE32, randomString } from '../../core/base.js';
import { ConflictError } from '../../core/errors.js';
import * as validate from '../../core/validate.js';
import type { Prompter } from '../io/prompter.js';
import { validator } from './validator.js';

export interface InitAnswers {
  tenantId: string;
  tenantName: string;
  adminEmail: string;
}

/**
 * "Acme Inc." → "acme-inc": a tenant id that reads like the name; a random one when the name has
 * no letters to use.
 */
export function suggestTenantId(name: string | undefined): string {
  const slug = (name ?? '')
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .slice(0, 32)
    .replace(/^-+|-+$/g, '');
  return validate.isTenantId(slug) ? slug : `t-${randomString(BASE32, 8).toLowerCase()}`;
}

function freeTenantId(text: string, taken: string[]): string {
  const id = validate.tenantId(text.trim());
  if (taken.includes(id))
    throw new ConflictError(`tenant ${id} is already set up in this store`, {
      hint: 'use it as it is, or pick another --tenant',
      code: 'already_initialised',
    });
  return id;
}

/** Asks for what the flags left open; without a terminal, the id comes from the name and the admin is required. */
export async function askInit(
  given: { tenantId?: string; tenantName?: string; adminEmail?: string },
  prompter: Prompter,
  taken: string[],
): Promise<InitAnswers> {
  const ask = prompter.canPrompt;
  const tenantName =
    given.tenantName ??
    (ask && given.tenantId === undefined
      ? await prompter.input({
          message: 'Tenant name (for people, e.g. Acme Inc.)',
          flag: '--tenant-name <name>',
          validate: validator(validate.displayName),
        })
      : undefined);
  const tenantId = freeTenantId(
    given.tenantId ??
      (ask
        ? await prompter.input({
            message: 'Tenant id (short, in every key string)',
            flag: '--tenant <id>',
            default: suggestTenantId(tenantName),
            validate: validator((value) => freeTenantId(value, taken)),
          })
        : suggestTenantId(tenantName)),
    taken,
  );
  const adminEmail = validate.email(
    given.adminEmail ??
      (await prompter.input({
        message: 'Email of the first administrator',
        flag: '--admin <email>',
        validate: validator(validate.email),
      })),
  );
  return { tenantId, tenantName: validate.displayName(tenantName || tenantId), adminEmail };
}
