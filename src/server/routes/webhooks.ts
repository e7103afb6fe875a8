/** /v1/webhooks…: signed webhooks on key events (administrators only, decided by the service). */
import { Fields } from '../fields.js';
import { created, type Route } from '../router.js';

export const webhookRoutes: Route[] = [
  { method: 'GET', pattern: '/v1/webhooks', handler: async ({ service }) => service.listWebhooks() },
  {
    method: 'POST',
    pattern: '/v1/webhooks',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const input = { url: f.string('url'), events: f.raw('events') === undefined ? ['*'] : f.stringList('events') };
      f.done();
      return created(await service.addWebhook(input));
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/webhooks/:id',
    handler: async ({ service, params }) => service.removeWebhook(params.id!),
  },
  {
    method: 'POST',
    pattern: '/v1/webhooks/:id/test',
    handler: async ({ service, params, body }) => {
      Fields.of(body).done();
      return service.testWebhook(params.id!);
    },
  },
];
