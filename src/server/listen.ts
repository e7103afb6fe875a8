/** `--listen HOST:PORT` and the rule that plain HTTP stays on loopback. */
import { isIP } from 'node:net';
import { UsageError } from '../core/errors.js';

export interface ListenAddress {
  host: string;
  port: number;
}

export const DEFAULT_LISTEN = '127.0.0.1:7860';

/** "HOST:PORT", "[v6]:PORT", or a bare "PORT" (loopback). */
export function parseListen(text: string, flag = '--listen'): ListenAddress {
  const value = text.trim();
  const bare = /^\d{1,5}$/.exec(value);
  const v6 = /^\[([0-9a-fA-F:.]+)\]:(\d{1,5})$/.exec(value);
  const named = /^([A-Za-z0-9.-]+):(\d{1,5})$/.exec(value);
  const [host, port] = bare
    ? ['127.0.0.1', value]
    : v6
      ? [v6[1]!, v6[2]!]
      : named
        ? [named[1]!, named[2]!]
        : [undefined, undefined];
  if (host === undefined || port === undefined || Number(port) > 65535 || (v6 && isIP(host) !== 6)) {
    throw new UsageError(`${flag}: cannot read "${value.slice(0, 60)}" as HOST:PORT`, {
      hint: `e.g. ${flag} 127.0.0.1:7860, ${flag} 0.0.0.0:443 or ${flag} [::1]:7860`,
    });
  }
  return { host, port: Number(port) };
}

export function isLoopback(host: string): boolean {
  const h = host.toLowerCase();
  return h === 'localhost' || h === '::1' || /^127(?:\.\d{1,3}){3}$/.test(h) || h === '::ffff:127.0.0.1';
}

/** New secrets travel in responses (create, rotate): without TLS they must not leave the machine. */
export function assertTransportAllowed(address: ListenAddress, tls: boolean, insecureHttp: boolean): void {
  if (tls || insecureHttp || isLoopback(address.host)) return;
  throw new UsageError(`refusing to serve plain HTTP on ${address.host}: only loopback addresses may go without TLS`, {
    hint: 'pass --tls-cert and --tls-key, or --insecure-http if a TLS-terminating proxy sits in front',
    code: 'insecure_listen',
  });
}

export function urlFor(address: ListenAddress, tls: boolean): string {
  const host = address.host.includes(':') ? `[${address.host}]` : address.host;
  return `${tls ? 'https' : 'http'}://${host}:${address.port}`;
}
