/**
 * Token buckets per client, in a bounded map kept in least-recently-seen order. When the map
 * is full the client seen longest ago is dropped: its bucket has had the most time to refill,
 * so forgetting it is the least generous choice, and it costs O(1) even under a flood of
 * spoofed-looking new addresses.
 * IPv6 clients are keyed by their /64, since one host usually holds a whole /64.
 */
import { isIPv6 } from 'node:net';

export interface RateLimitOptions {
  /** tokens added per second (sustained requests per second) */
  ratePerSecond: number;
  /** bucket size (the burst allowed after a quiet spell) */
  burst: number;
  maxClients?: number;
}

interface Bucket {
  tokens: number;
  at: number;
}

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number };

const ALLOWED: RateDecision = { allowed: true };

export class RateLimiter {
  private readonly buckets = new Map<string, Bucket>();
  private readonly maxClients: number;

  constructor(private readonly options: RateLimitOptions) {
    this.maxClients = options.maxClients ?? 10_000;
  }

  get size(): number {
    return this.buckets.size;
  }

  /** Take `cost` tokens from the client's bucket if it holds them. */
  take(clientIp: string, nowMs: number, cost = 1): RateDecision {
    const key = clientKey(clientIp);
    const bucket = this.buckets.get(key) ?? { tokens: this.options.burst, at: nowMs };
    this.refill(bucket, nowMs);
    this.store(key, bucket);
    if (bucket.tokens >= cost) {
      bucket.tokens -= cost;
      return ALLOWED;
    }
    return {
      allowed: false,
      retryAfterSeconds: Math.max(1, Math.ceil((cost - bucket.tokens) / this.options.ratePerSecond)),
    };
  }

  /** In place: this runs on every verification. */
  private refill(bucket: Bucket, nowMs: number): void {
    const elapsed = Math.max(0, nowMs - bucket.at) / 1000;
    bucket.tokens = Math.min(this.options.burst, bucket.tokens + elapsed * this.options.ratePerSecond);
    bucket.at = nowMs;
  }

  private store(key: string, bucket: Bucket): void {
    // delete + set moves the client to the end: the map's first entry is the least recently seen.
    if (!this.buckets.delete(key) && this.buckets.size >= this.maxClients) {
      const oldest = this.buckets.keys().next().value;
      if (oldest !== undefined) this.buckets.delete(oldest);
    }
    this.buckets.set(key, bucket);
  }
}

export function clientKey(ip: string): string {
  // Runs on every request: plain IPv4 (the common case) is recognised without a full parse.
  if (!ip.includes(':')) return ip;
  const plain = ip.startsWith('::ffff:') && ip.includes('.') ? ip.slice(7) : ip;
  if (!isIPv6(plain)) return plain;
  return expandIPv6(plain).slice(0, 4).join(':') + '::/64';
}

function expandIPv6(ip: string): string[] {
  const [head = '', tail = ''] = ip.split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const zeros: string[] = ip.includes('::') ? Array<string>(8 - left.length - right.length).fill('0') : [];
  return [...left, ...zeros, ...right].map((part) => part.toLowerCase().replace(/^0+(?=.)/, ''));
}
