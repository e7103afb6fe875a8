/**
 * Which address a request comes from: the TCP peer, unless the peer is a proxy named with
 * `akm serve --trusted-proxy <CIDR>`. Then X-Forwarded-For is read from the right (the end a
 * trusted proxy appended to) and the first address that is not itself a trusted proxy is the
 * client. Anything to its left was written by the client and proves nothing. Without trusted
 * proxies the header is ignored: any client could otherwise pose as any address, and dodge the
 * throttles or frame another client.
 */
import { BlockList, isIP } from 'node:net';
import { UsageError } from '../core/errors.js';

export class TrustedProxies {
  private readonly list = new BlockList();

  constructor(cidrs: string[]) {
    for (const text of cidrs) {
      const { address, prefix, family } = parseCidr(text);
      this.list.addSubnet(address, prefix, family);
    }
  }

  has(address: string): boolean {
    const plain = unmapped(address);
    const family = isIP(plain);
    return family !== 0 && this.list.check(plain, family === 6 ? 'ipv6' : 'ipv4');
  }
}

/** "10.0.0.0/8", "2001:db8::/32", or a single address ("192.0.2.7", "::1"). */
export function parseCidr(text: string): { address: string; prefix: number; family: 'ipv4' | 'ipv6' } {
  const [address = '', prefixText, extra] = text.trim().split('/');
  const family = isIP(address);
  const max = family === 6 ? 128 : 32;
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (family === 0 || extra !== undefined || !/^\d{1,3}$/.test(String(prefix)) || prefix > max) {
    throw new UsageError(`--trusted-proxy: "${text.slice(0, 60)}" is not an IP address or CIDR range`, {
      hint: 'e.g. --trusted-proxy 10.0.0.0/8 --trusted-proxy 2001:db8::/32 --trusted-proxy 127.0.0.1',
    });
  }
  return { address, prefix, family: family === 6 ? 'ipv6' : 'ipv4' };
}

export function clientAddress(
  peer: string | undefined,
  forwardedFor: string | string[] | undefined,
  proxies: TrustedProxies | null,
): string {
  const direct = peer ? unmapped(peer) : 'unknown';
  if (!proxies || forwardedFor === undefined || !proxies.has(direct)) return direct;
  const hops = (Array.isArray(forwardedFor) ? forwardedFor.join(',') : forwardedFor).split(',');
  let client = direct;
  for (let i = hops.length - 1; i >= 0; i--) {
    const hop = hopAddress(hops[i]!);
    // A hop that is not an address ends the trusted part: the proxy behind it was not ours.
    if (hop === null) break;
    client = hop;
    if (!proxies.has(hop)) break;
  }
  return client;
}

/** "192.0.2.7", "192.0.2.7:4711", "2001:db8::1", "[2001:db8::1]:4711"; null for anything else. */
function hopAddress(text: string): string | null {
  const value = text.trim();
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(value)?.[1];
  const withPort = /^(\d{1,3}(?:\.\d{1,3}){3}):\d+$/.exec(value)?.[1];
  const address = bracketed ?? withPort ?? value;
  return isIP(address) ? unmapped(address) : null;
}

/** IPv4 clients of a dual-stack socket show as ::ffff:a.b.c.d: they are IPv4 clients. */
function unmapped(address: string): string {
  return address.startsWith('::ffff:') && address.includes('.') ? address.slice(7) : address;
}
