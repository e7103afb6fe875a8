/** The audit trail as the service hands it out: records, queries and the result of a verification. */
export interface AuditQuery {
  /** ISO timestamp: records at or after it */
  since?: string;
  /** an access key id or key name: that key's records (a deleted key's too) */
  key?: string;
  /** an email, or "key:AKM…" */
  actor?: string;
  /** newest first, at most this many per page (default 100, at most 1000) */
  limit?: number;
  /** the `next` of the previous page */
  after?: string;
}

export interface AuditRecord {
  seq: number;
  at: string;
  tenantId: string;
  actor: string;
  action: string;
  target: string | null;
  details: Record<string, unknown>;
  /** where the change came from: "cli:<os user>@<host>" or "http:<address>" */
  source: string;
}

export interface AuditVerifyOptions {
  /** an anchor printed by an earlier verification ("<seq>:<mac>"): it must still be in the chain */
  expectHead?: string;
}

export type AuditProblemKind = 'edited' | 'deleted' | 'inserted' | 'reordered' | 'head';

export interface AuditProblem {
  kind: AuditProblemKind;
  /** the record concerned (a deleted range starts here) */
  seq: number;
  message: string;
}

export interface AuditVerification {
  ok: boolean;
  /** records in the store's chain (all tenants share one chain) */
  records: number;
  /** "<seq>:<mac>" of the newest record: keep it elsewhere and pass it as expectHead later to detect a cut-off tail */
  head: string | null;
  problems: AuditProblem[];
}
