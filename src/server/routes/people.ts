/** /v1/users…, /v1/groups…, /v1/roles…: people and their permissions. */
import { Fields } from '../fields.js';
import { created, type Route } from '../router.js';

export const peopleRoutes: Route[] = [
  { method: 'GET', pattern: '/v1/users', handler: async ({ service }) => service.listUsers() },
  {
    method: 'POST',
    pattern: '/v1/users',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const email = f.string('email');
      const name = f.optionalString('name') ?? '';
      f.done();
      return created(await service.addUser(email, name));
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/users/:email',
    handler: async ({ service, params }) => service.removeUser(params.email!),
  },

  { method: 'GET', pattern: '/v1/groups', handler: async ({ service }) => service.listGroups() },
  {
    method: 'POST',
    pattern: '/v1/groups',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const name = f.string('name');
      f.done();
      return created(await service.createGroup(name));
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/groups/:name',
    handler: async ({ service, params }) => service.deleteGroup(params.name!),
  },
  {
    method: 'POST',
    pattern: '/v1/groups/:name/members',
    handler: async ({ service, params, body }) => {
      const f = Fields.of(body);
      const email = f.string('email');
      f.done();
      return service.addGroupMember(params.name!, email);
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/groups/:name/members/:email',
    handler: async ({ service, params }) => service.removeGroupMember(params.name!, params.email!),
  },
  {
    method: 'POST',
    pattern: '/v1/groups/:name/roles',
    handler: async ({ service, params, body }) => {
      const f = Fields.of(body);
      const role = f.string('role');
      f.done();
      return service.addGroupRole(params.name!, role);
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/groups/:name/roles/:role',
    handler: async ({ service, params }) => service.removeGroupRole(params.name!, params.role!),
  },

  { method: 'GET', pattern: '/v1/roles', handler: async ({ service }) => service.listRoles() },
  {
    method: 'POST',
    pattern: '/v1/roles',
    handler: async ({ service, body }) => {
      const f = Fields.of(body);
      const name = f.string('name');
      const permissions = f.stringList('permissions');
      f.done();
      return created(await service.createRole(name, permissions));
    },
  },
  {
    method: 'DELETE',
    pattern: '/v1/roles/:name',
    handler: async ({ service, params }) => service.deleteRole(params.name!),
  },
];
