/**
 * Acting as someone other than the store's operator, the way the server does it: through a key
 * of theirs (or a tenant-level key) whose roles give the permissions.
 */
import { keyActor } from '../../src/service/local/actor.js';
import { LocalService } from '../../src/service/local/service.js';
import type { MailSettings } from '../../src/notify/smtp.js';
import { getKey } from '../../src/store/keys.js';

let serial = 0;

/** A service acting as `email` (null: a tenant-level key), through a new key with these roles. */
export async function actingAs(
  admin: LocalService,
  email: string | null,
  roles: string[],
  mail: MailSettings | null = null,
): Promise<LocalService> {
  const issued = await admin.createKey({
    name: `acting-${++serial}`,
    type: 'access',
    expiry: { kind: 'days', days: 365 },
    owner: email,
    groups: [],
    roles,
  });
  const actor = await admin.ctx.store.read(async (q) =>
    keyActor(q, (await getKey(q, admin.ctx.tenant.id, issued.accessKeyId))!),
  );
  return new LocalService({ ...admin.ctx, actor, source: 'test' }, false, mail);
}
