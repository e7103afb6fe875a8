/**
 * Typed errors with one exit code each, and the one list of error codes akm can emit. Only
 * bin/akm.js turns an error into process.exitCode; everything else throws.
 */
export const ExitCode = {
  ok: 0,
  unexpected: 1,
  usage: 2,
  notFound: 3,
  conflict: 4,
  denied: 5,
  unavailable: 6,
  cancelled: 130,
} as const;
export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * Every code akm prints under `{"error":{"code"}}` or sends on the wire, snake_case. The README's
 * list of error codes is checked against this one by a test; add a code here before using it.
 */
export const ERROR_CODES = [
  // generic, one per exit code
  'unexpected',
  'internal',
  'usage',
  'not_found',
  'conflict',
  'denied',
  'unavailable',
  'cancelled',
  // command line (argument parsing)
  'unknown_command',
  'missing_command',
  'unknown_option',
  'missing_argument',
  'option_missing_argument',
  'missing_mandatory_option_value',
  'conflicting_option',
  'excess_arguments',
  'invalid_argument',
  'missing_flag',
  'missing_input',
  'config_invalid',
  'profile_not_found',
  // keys
  'key_not_found',
  'ambiguous_key',
  'duplicate_name',
  'key_limit',
  'invalid_key',
  'tampered_secret',
  'invalid_grace',
  'malformed_key_string',
  'secret_in_argument',
  'tampered_record',
  // governance: the lifetime policy, bulk operations
  'policy_violation',
  'too_many_keys',
  'invalid_key_list',
  // people
  'user_not_found',
  'group_not_found',
  'role_not_found',
  'tenant_not_found',
  'duplicate_user',
  'duplicate_group',
  'duplicate_role',
  'builtin',
  'group_in_use',
  'role_in_use',
  'user_has_keys',
  'operator_user',
  'last_admin',
  'already_initialised',
  // authorization
  'permission_denied',
  'escalation_denied',
  'tenant_mismatch',
  'admin_required',
  'admin_key_protected',
  'not_your_key',
  'key_more_powerful',
  'admin_user_protected',
  'admin_group_protected',
  'never_expiry_denied',
  'reactivation_denied',
  // the store and its master key
  'store_missing',
  'store_invalid',
  'store_foreign',
  'store_too_new',
  'store_outdated',
  'store_not_empty',
  'store_mismatch',
  'copy_mismatch',
  'store_corrupt',
  'store_locked',
  'store_unwritable',
  'store_full',
  'store_uninitialised',
  'store_url_invalid',
  'store_unreachable',
  'store_auth_failed',
  'store_env_unset',
  'master_key_missing',
  'master_key_check_missing',
  'bad_master_key',
  'wrong_master_key',
  'master_key_exposed',
  'master_key_rotated',
  'keychain_unavailable',
  'file_exists',
  'file_unwritable',
  // audit, notifications and mail
  'audit_tampered',
  'bad_anchor',
  'no_inbox',
  'smtp_not_configured',
  'smtp_url_invalid',
  'mail_undelivered',
  'no_clipboard',
  // remote mode: the client
  'no_credentials',
  'not_logged_in',
  'credentials_invalid',
  'credentials_incomplete',
  'credentials_exposed',
  'invalid_credentials',
  'server_unreachable',
  'server_timeout',
  'server_bad_response',
  'verify_unavailable',
  // remote mode: the server
  'insecure_listen',
  'listen_failed',
  'tls_invalid',
  'auth_required',
  'auth_malformed',
  'auth_failed',
  'clock_skew',
  'replayed_request',
  'rate_limited',
  'invalid_body',
  'invalid_query',
  'invalid_json',
  'invalid_path',
  'request_aborted',
  'body_too_large',
  'unsupported_media_type',
  'method_not_allowed',
  'no_such_route',
  // who uses a key: graces, brownouts, canaries, webhooks
  'no_grace',
  'invalid_brownout',
  'already_inactive',
  'invalid_event',
  'invalid_webhook_url',
  'webhook_not_found',
  'webhook_undelivered',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN_CODES: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(text: string): text is ErrorCode {
  return KNOWN_CODES.has(text);
}

export interface ErrorOptions {
  /** one line telling the user what to do next */
  hint?: string | undefined;
  code?: ErrorCode;
}

export class AkmError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  constructor(
    message: string,
    readonly exitCode: ExitCodeValue,
    options: { hint?: string | undefined; code: ErrorCode },
  ) {
    super(message);
    this.name = new.target.name;
    this.code = options.code;
    this.hint = options.hint;
  }
}

export class UsageError extends AkmError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, ExitCode.usage, { hint: options.hint, code: options.code ?? 'usage' });
  }
}

export class NotFoundError extends AkmError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, ExitCode.notFound, { hint: options.hint, code: options.code ?? 'not_found' });
  }
}

export class ConflictError extends AkmError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, ExitCode.conflict, { hint: options.hint, code: options.code ?? 'conflict' });
  }
}

export class DeniedError extends AkmError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, ExitCode.denied, { hint: options.hint, code: options.code ?? 'denied' });
  }
}

export class UnavailableError extends AkmError {
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, ExitCode.unavailable, { hint: options.hint, code: options.code ?? 'unavailable' });
  }
}

export class CancelledError extends AkmError {
  constructor(message = 'cancelled') {
    super(message, ExitCode.cancelled, { code: 'cancelled' });
  }
}
