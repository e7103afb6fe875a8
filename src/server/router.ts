/**
 * A small router: "METHOD /v1/keys/:ref/extend" patterns, segments percent-decoded into
 * params. A path that exists under another method answers 405 with Allow, as HTTP says.
 */
import type { AkmService } from '../service/types.js';
import { HttpError } from './http.js';

export interface Call {
  service: AkmService;
  params: Record<string, string>;
  query: URLSearchParams;
  body: unknown;
}

/** A result with a status other than 200. */
export class Reply {
  constructor(
    readonly status: number,
    readonly body: unknown,
  ) {}
}

export type Handler = (call: Call) => Promise<unknown>;

export interface Route {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  pattern: string;
  handler: Handler;
  /** a larger body than the server's default limit (bulk changes) */
  bodyLimit?: number;
}

export interface Match {
  route: Route;
  params: Record<string, string>;
}

export function created(body: unknown): Reply {
  return new Reply(201, body);
}

export class Router {
  private readonly routes: Array<Route & { parts: string[] }> = [];

  add(...routes: Route[]): this {
    for (const route of routes) this.routes.push({ ...route, parts: route.pattern.split('/') });
    return this;
  }

  /** Undefined when no route has this path at all (a 404). */
  match(method: string, pathname: string): Match | undefined {
    const parts = pathname.split('/');
    const allowed: string[] = [];
    for (const route of this.routes) {
      const params = matchParts(route.parts, parts);
      if (!params) continue;
      if (route.method === method) return { route, params };
      allowed.push(route.method);
    }
    if (allowed.length > 0)
      throw new HttpError(405, 'method_not_allowed', `${method} is not allowed here`, { allow: allowed.join(', ') });
    return undefined;
  }
}

function matchParts(pattern: string[], actual: string[]): Record<string, string> | undefined {
  if (pattern.length !== actual.length) return undefined;
  const params: Record<string, string> = {};
  for (let i = 0; i < pattern.length; i += 1) {
    const want = pattern[i]!;
    const got = actual[i]!;
    if (want.startsWith(':')) {
      if (got.length === 0) return undefined;
      params[want.slice(1)] = decodeSegment(got);
    } else if (want !== got) {
      return undefined;
    }
  }
  return params;
}

function decodeSegment(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new HttpError(400, 'invalid_path', 'malformed percent-encoding in the path');
  }
}
