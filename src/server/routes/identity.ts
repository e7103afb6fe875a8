/**
 * /v1/whoami: who the signing key is. `akm login` calls it to check credentials before storing
 * them. The server's store path is the operator's business, not the caller's: it is left out
 * (the remote client reports the server URL as the store).
 */
import type { Route } from '../router.js';

export const identityRoutes: Route[] = [
  {
    method: 'GET',
    pattern: '/v1/whoami',
    handler: async ({ service }) => {
      const { store: _store, mode: _mode, ...identity } = await service.whoami();
      return identity;
    },
  },
];
