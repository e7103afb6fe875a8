/** Every signed endpoint. /healthz and /v1/verify are served before routing (no signature). */
import { Router } from '../router.js';
import { governanceRoutes } from './governance.js';
import { identityRoutes } from './identity.js';
import { inboxRoutes } from './inbox.js';
import { keyRoutes } from './keys.js';
import { peopleRoutes } from './people.js';
import { webhookRoutes } from './webhooks.js';

export function buildRouter(): Router {
  return new Router().add(
    ...identityRoutes,
    ...keyRoutes,
    ...peopleRoutes,
    ...inboxRoutes,
    ...governanceRoutes,
    ...webhookRoutes,
  );
}
