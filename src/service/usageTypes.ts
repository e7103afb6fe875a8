/**
 * The plain-JSON shapes of who uses a key (per secret, with sources), of its grace after a
 * rotation, and of webhooks, as they cross the AkmService boundary. Timestamps are ISO-8601 UTC.
 */
import type { UseSource } from '../core/source.js';

export type { ForwardedSource, UseSource } from '../core/source.js';

/** One source and how it used a secret (or tried a key refused to it). */
export interface SourceUse extends UseSource {
  firstSeen: string;
  lastSeen: string;
  count: number;
}

/** The uses of one of a key's secrets: `current`, or `previous` while a rotation's grace lasts. */
export interface SecretUsage {
  version: 'current' | 'previous';
  lastUsedAt: string | null;
  /** the last 20 distinct sources, most recently seen first */
  sources: SourceUse[];
}

/** The previous secret after a rotation, while it is still accepted. */
export interface GraceView {
  /** fixed: until a set time; auto: until unused for `quietForMs`, at most until `endsBy` */
  mode: 'fixed' | 'auto';
  quietForMs: number | null;
  /** when the rotation happened: uses of the previous secret after this are uses of an old secret */
  rotatedAt: string;
  /** when it ends if nothing changes (auto: unless the old secret is used again) */
  endsAt: string;
  /** the latest it can end: the end of a fixed grace, or the cap of an automatic one */
  endsBy: string;
}

/** A canary key's alarm: every attempt counted, when it last alerted, and who tried. */
export interface CanaryView {
  attempts: number;
  lastAttemptAt: string | null;
  lastAlertAt: string | null;
  sources: SourceUse[];
}

// ---- webhooks

export interface Webhook {
  id: string;
  url: string;
  /** event types, or ["*"] for every event */
  events: string[];
  createdAt: string;
  createdBy: string;
  /** deliveries waiting (or being retried) */
  pending: number;
  /** the latest attempt, whatever its outcome */
  lastAttempt: DeliveryAttempt | null;
}

export interface DeliveryAttempt {
  at: string;
  eventType: string;
  ok: boolean;
  /** the receiver's HTTP status; null when no answer came (refused, timed out) */
  status: number | null;
  error: string | null;
}

/** Returned once, by `webhooks add`: the only time the signing secret leaves akm. */
export interface NewWebhook extends Webhook {
  secret: string;
}

export interface AddWebhookInput {
  url: string;
  /** event types, or ["*"] */
  events: string[];
}

/** `webhooks test`: one signed `webhook.test` event, sent at once and reported. */
export interface WebhookTestResult {
  id: string;
  eventId: string;
  delivered: boolean;
  status: number | null;
  error: string | null;
}

/** What one `akm deliver` run did. */
export interface DeliveryReport {
  webhooks: { sent: number; failed: number; gaveUp: number; waiting: number };
  mail: { sent: number; failed: number };
}
