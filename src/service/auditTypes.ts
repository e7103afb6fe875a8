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
  /** its place in the tenant's chain; null for anyone but an administrator */
  seq: number | null;
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

/** A row that decides authentication or authorization and whose integrity MAC does not hold. */
export interface AlteredRow {
  table: 'keys' | 'roles' | 'groups' | 'users';
  /** the key's id, the role's or group's name, the user's email */
  row: string;
  message: string;
}

export interface AuditVerification {
  /** true when the chain is intact and no row was altered */
  ok: boolean;
  tenantId: string;
  /** records in this tenant's chain (each tenant has its own) */
  records: number;
  /** "<seq>:<mac>" of the newest record: keep it elsewhere and pass it as expectHead later to detect a cut-off tail */
  head: string | null;
  problems: AuditProblem[];
  alteredRows: AlteredRow[];
}

/** The sealed head of a tenant's chain, for anchoring outside the store (`akm audit head`). */
export interface AuditHead {
  tenantId: string;
  /** "<seq>:<mac>" */
  head: string;
}
