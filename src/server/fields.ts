/**
 * Validating JSON bodies and query strings from the network. Only shapes are checked here
 * (types, lengths, known fields); the meaning (a valid email, an existing role) is checked by
 * the service, exactly as for the CLI. Unknown fields are refused so a misspelt option cannot
 * be silently ignored.
 */
import { UsageError } from '../core/errors.js';

const MAX_STRING = 1024;
const MAX_LIST = 100;

function invalid(message: string): UsageError {
  return new UsageError(message, { code: 'invalid_body' });
}

export class Fields {
  private readonly used = new Set<string>();

  constructor(private readonly body: Record<string, unknown>) {}

  static of(value: unknown): Fields {
    if (!value || typeof value !== 'object' || Array.isArray(value))
      throw invalid('the request body must be a JSON object');
    return new Fields(value as Record<string, unknown>);
  }

  private take(name: string): unknown {
    this.used.add(name);
    return this.body[name];
  }

  string(name: string): string {
    const value = this.take(name);
    if (typeof value !== 'string') throw invalid(`"${name}" must be a string`);
    if (value.length > MAX_STRING) throw invalid(`"${name}" is too long`);
    return value;
  }

  optionalString(name: string): string | undefined {
    return this.take(name) === undefined ? undefined : this.string(name);
  }

  nullableString(name: string): string | null {
    return this.take(name) === null ? null : this.string(name);
  }

  stringList(name: string, maxItems = MAX_LIST): string[] {
    const value = this.take(name);
    if (value === undefined) return [];
    if (
      !Array.isArray(value) ||
      value.length > maxItems ||
      !value.every((v) => typeof v === 'string' && v.length <= MAX_STRING)
    ) {
      throw invalid(`"${name}" must be a list of at most ${maxItems} strings`);
    }
    return value as string[];
  }

  boolean(name: string): boolean {
    const value = this.take(name);
    if (typeof value !== 'boolean') throw invalid(`"${name}" must be true or false`);
    return value;
  }

  integer(name: string, min: number, max: number): number {
    const value = this.take(name);
    if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
      throw invalid(`"${name}" must be a whole number from ${min} to ${max}`);
    }
    return value;
  }

  optionalBoolean(name: string): boolean | undefined {
    const value = this.take(name);
    if (value === undefined) return undefined;
    if (typeof value !== 'boolean') throw invalid(`"${name}" must be true or false`);
    return value;
  }

  optionalInteger(name: string, min: number, max: number): number | undefined {
    return this.take(name) === undefined ? undefined : this.integer(name, min, max);
  }

  raw(name: string): unknown {
    return this.take(name);
  }

  /** Call last: refuses any field nobody asked for. */
  done(): void {
    const extra = Object.keys(this.body).filter((k) => !this.used.has(k));
    if (extra.length > 0)
      throw invalid(
        `unknown field${extra.length > 1 ? 's' : ''}: ${extra
          .slice(0, 5)
          .map((k) => JSON.stringify(k.slice(0, 40)))
          .join(', ')}`,
      );
  }
}

/** Query parameters: at most one value each, no unknown names. */
export function queryParams(query: URLSearchParams, allowed: string[]): Record<string, string | undefined> {
  const out: Record<string, string | undefined> = {};
  for (const name of new Set(query.keys())) {
    if (!allowed.includes(name))
      throw new UsageError(`unknown query parameter "${name.slice(0, 40)}"`, {
        hint: `allowed: ${allowed.join(', ')}`,
        code: 'invalid_query',
      });
    const values = query.getAll(name);
    if (values.length > 1)
      throw new UsageError(`query parameter "${name}" given more than once`, { code: 'invalid_query' });
    out[name] = values[0];
  }
  return out;
}

export function queryInteger(value: string | undefined, name: string, min: number, max: number): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,9}$/.test(value) || Number(value) < min || Number(value) > max) {
    throw new UsageError(`query parameter "${name}" must be a whole number from ${min} to ${max}`, {
      code: 'invalid_query',
    });
  }
  return Number(value);
}

export function queryBoolean(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value !== 'true' && value !== 'false')
    throw new UsageError(`query parameter "${name}" must be true or false`, { code: 'invalid_query' });
  return value === 'true';
}
