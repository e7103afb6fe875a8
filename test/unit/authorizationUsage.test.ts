/**
 * The rule's new cases, pure: webhooks and delivery are for administrators, a canary is out of
 * everyone else's reach, finishing a grace needs keys:rotate. (The model-based suite checks
 * these against the service too.)
 */
import test from 'ava';
import { decide, keyInReach, type ActorFacts, type Operation } from '../../src/core/authorization.js';

const actor = (permissions: string[], userId: number | null = 1): ActorFacts => ({
  permissions,
  userId,
  roles: [],
  groups: [],
});
const key = { id: 'AKMAAAAAAAAAAAAAAAAA', ownerId: 1, permissions: [], deactivatedByAdmin: false };

test('webhooks and delivery: administrators only, whatever else the actor holds', (t) => {
  for (const operation of [
    'webhook.add',
    'webhook.list',
    'webhook.remove',
    'webhook.test',
    'outbox.deliver',
  ] as Operation[]) {
    t.true(decide(actor(['*']), { operation }).allowed, operation);
    const denied = decide(actor(['keys:*', 'users:manage', 'audit:read']), { operation });
    t.false(denied.allowed, operation);
    if (!denied.allowed) {
      t.is(denied.code, 'admin_required');
      t.regex(denied.message, /administrators/);
    }
  }
});

test("a canary: only administrators create one, and it is out of anyone else's reach", (t) => {
  const creation = decide(actor(['keys:*']), { operation: 'key.create', owner: 1, canary: true });
  t.deepEqual(creation.allowed ? null : creation.code, 'admin_required');
  t.true(decide(actor(['*']), { operation: 'key.create', owner: null, canary: true }).allowed);
  t.false(keyInReach(actor(['keys:*']), { ...key, canary: true }).allowed);
  t.true(keyInReach(actor(['keys:*']), key).allowed);
  t.true(keyInReach(actor(['*']), { ...key, canary: true }).allowed);
  const show = decide(actor(['keys:*']), { operation: 'key.show', key: { ...key, canary: true } });
  t.false(show.allowed);
});

test('finishing a grace needs keys:rotate and the key in reach', (t) => {
  t.true(decide(actor(['keys:rotate']), { operation: 'key.finish-grace', key }).allowed);
  const denied = decide(actor(['keys:read', 'keys:write']), { operation: 'key.finish-grace', key });
  t.is(denied.allowed ? null : denied.code, 'permission_denied');
  const other = decide(actor(['keys:rotate'], 2), { operation: 'key.finish-grace', key });
  t.is(other.allowed ? null : other.code, 'not_your_key');
});

test("ending an administrator's brownout early is re-activating: administrators only", (t) => {
  const browned = { ...key, deactivatedByAdmin: true };
  const denied = decide(actor(['keys:write']), { operation: 'key.activate', key: browned });
  t.is(denied.allowed ? null : denied.code, 'reactivation_denied');
  t.true(decide(actor(['keys:write']), { operation: 'key.deactivate', key: browned }).allowed);
});
