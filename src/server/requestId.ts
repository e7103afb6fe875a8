/**
 * A request id for every request, echoed in `x-request-id` and written in its log line, so one
 * request can be followed from a load balancer's log to akm's. An id a proxy or client sent is
 * kept when it is sane (printable, short, nothing secret-shaped); otherwise the server makes
 * one: a random prefix per process and a counter, unique across replicas and cheap on the hot path.
 */
import { randomBytes } from 'node:crypto';
import { looksSecret } from '../core/credentials.js';

const SANE = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

export class RequestIds {
  private readonly prefix = randomBytes(6).toString('hex');
  private count = 0;

  /** The id of a request that came with `header` (the value of x-request-id, if any). */
  for(header: string | string[] | undefined): string {
    if (typeof header === 'string' && SANE.test(header) && !looksSecret(header)) return header;
    this.count += 1;
    return `${this.prefix}-${this.count.toString(36)}`;
  }
}
