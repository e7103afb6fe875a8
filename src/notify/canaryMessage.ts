/**
 * The alarm of a canary key: the e-mail to each administrator and the bell. It says which
 * key, when, how often, and where from; it never contains a secret. What came over the network
 * (a service name, a user agent) is neutralised so it cannot forge lines or headers.
 */
import type { UseSource } from '../core/source.js';
import { printable } from '../core/validate.js';
import { utcMinute, type RenderedMail } from './expiryMessage.js';

export interface CanaryAlarmPayload {
  accessKeyId: string;
  keyName: string;
  tenantId: string;
  at: string;
  path: 'signin' | 'verify' | 'local';
  source: UseSource;
  secretMatched: boolean;
  /** attempts this alert covers: this one and those since the last alert */
  attempts: number;
}

const PATHS = { signin: 'a signed request to akm serve', verify: 'POST /v1/verify', local: 'akm verify on the store' };

/** "billing (10.0.0.5 via 10.1.1.1), curl/8.5" */
export function describeAttemptSource(s: UseSource): string {
  const address = s.address === null ? 'an unknown address' : printable(s.address, 64);
  const where = s.via === null ? address : `${address} via ${printable(s.via, 64)}`;
  const who = s.service === null ? where : `${printable(s.service, 64)} (${where})`;
  return s.userAgent === null ? who : `${who}, ${printable(s.userAgent, 100)}`;
}

export function canaryBell(p: CanaryAlarmPayload): string {
  const more = p.attempts > 1 ? ` (${p.attempts} attempts since the last alert)` : '';
  return (
    `ALERT: someone tried the canary key "${p.keyName}" (${p.accessKeyId}) through ${PATHS[p.path]}, ` +
    `from ${describeAttemptSource(p.source)}${more}: its key string has leaked`
  );
}

export function renderCanaryMail(p: CanaryAlarmPayload): RenderedMail {
  const name = printable(p.keyName, 64);
  return {
    subject: `[akm] ALERT: canary key "${name}" (${p.accessKeyId}) in tenant ${p.tenantId} was tried`,
    text: [
      `Someone tried to use the akm canary key "${name}". A canary key is bait: it never`,
      'authenticates, and nobody has a reason to use it. Its key string has leaked from wherever',
      'it was planted (a backup, a CI variable, a laptop).',
      '',
      `  Key:         ${name} (${p.accessKeyId})`,
      `  Tenant:      ${p.tenantId}`,
      `  When:        ${utcMinute(p.at)}`,
      `  Through:     ${PATHS[p.path]}`,
      `  From:        ${describeAttemptSource(p.source)}`,
      `  Secret:      ${p.secretMatched ? "the canary's own (the whole key string was taken)" : 'another one'}`,
      `  Attempts:    ${p.attempts} since the last alert`,
      '',
      'akm alerts at most once every ten minutes per canary key; every attempt is counted and',
      `listed by: akm show ${p.accessKeyId}`,
      '',
      '-- ',
      'akm',
      '',
    ].join('\n'),
  };
}
