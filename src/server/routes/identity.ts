/** /v1/whoami: who the signing key is. `akm login` calls it to check credentials before storing them. */
import type { Route } from '../router.js';

export const identityRoutes: Route[] = [
  { method: 'GET', pattern: '/v1/whoami', handler: async ({ service }) => service.whoami() },
];
