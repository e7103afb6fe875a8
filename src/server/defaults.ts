/** Server defaults, apart from the server itself so `akm --help` can show them without loading it. */
export const DEFAULTS = {
  /** /v1/verify: sustained requests per second per client, and the burst above it */
  verifyRate: 100,
  verifyBurst: 200,
  bodyLimit: 64 * 1024,
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  drainMs: 10_000,
  /** the expiry mail job (what `akm notify-expiring` does from cron) */
  expiryJobIntervalMs: 3_600_000,
  /** erasing ended grace periods, old replay tokens and failure counts */
  sweepIntervalMs: 60_000,
  /** looking for webhook events that are due (changes and canary alerts send sooner) */
  deliveryIntervalMs: 1000,
};
