/** The master key operations as the service hands them out: export and rotation (local stores only). */
import type { MasterKeySourceName } from '../crypto/masterKey.js';

export interface MasterKeyExportInput {
  /** a new file: an existing one is never overwritten */
  file: string;
  /** check that the export would work (the key, the file, the permission); write nothing */
  dryRun?: boolean;
}

export interface MasterKeyExport {
  dryRun: boolean;
  /** the new file holding the key (0600), as an absolute path */
  file: string;
  /** where akm read the key from */
  source: MasterKeySourceName;
}

export interface MasterKeyRotationInput {
  /** check that the store can be rotated and count what would be re-keyed; change nothing */
  dryRun?: boolean;
  /** the old key came from AKM_MASTER_KEY: the new one goes to this new file (0600) */
  newKeyFile?: string;
  /**
   * The old key came from AKM_MASTER_KEY: the new one (base64) is handed to this, before the
   * rotation commits, so it is never lost (`--print-new-key`).
   */
  printNewKey?: (base64: string) => void;
}

/** What a rotation re-keyed (or, in a dry run, would re-key): every tenant of the store. */
export interface MasterKeyRotation {
  dryRun: boolean;
  /** where the new key is now: "the OS keychain", a file, or "printed"; null for a dry run */
  newKey: string | null;
  tenants: number;
  /** sealed secrets re-sealed, current and previous */
  secrets: number;
  /** keys, roles, groups and users whose integrity MAC was re-keyed */
  rows: number;
  /** audit records re-chained under the new key */
  auditRecords: number;
  /** this tenant's new audit head ("<seq>:<mac>"): note it for `audit verify --expect-head`; null for a dry run */
  auditHead: string | null;
  rotatedAt: string | null;
}
