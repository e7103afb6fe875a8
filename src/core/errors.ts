/**
 * Typed errors with one exit code each (SPEC §3). Only bin/akm.js turns them into
 * process.exitCode; everything else throws.
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

export class AkmError extends Error {
  constructor(
    message: string,
    readonly code: string,
    readonly exitCode: ExitCodeValue,
    readonly hint?: string,
  ) {
    super(message);
    this.name = new.target.name;
  }
}

export class UsageError extends AkmError {
  constructor(message: string, hint?: string, code = 'usage') {
    super(message, code, ExitCode.usage, hint);
  }
}

export class NotFoundError extends AkmError {
  constructor(message: string, hint?: string, code = 'not_found') {
    super(message, code, ExitCode.notFound, hint);
  }
}

export class ConflictError extends AkmError {
  constructor(message: string, hint?: string, code = 'conflict') {
    super(message, code, ExitCode.conflict, hint);
  }
}

export class DeniedError extends AkmError {
  constructor(message: string, hint?: string, code = 'denied') {
    super(message, code, ExitCode.denied, hint);
  }
}

export class UnavailableError extends AkmError {
  constructor(message: string, hint?: string, code = 'unavailable') {
    super(message, code, ExitCode.unavailable, hint);
  }
}

export class CancelledError extends AkmError {
  constructor(message = 'cancelled') {
    super(message, 'cancelled', ExitCode.cancelled);
  }
}

/** Rebuild a typed error from its wire form (remote mode), keeping the exit code. */
export function errorFromWire(code: string, message: string, exitCode: number, hint?: string): AkmError {
  const known = Object.values(ExitCode) as number[];
  const exit = (known.includes(exitCode) ? exitCode : ExitCode.unexpected) as ExitCodeValue;
  return new AkmError(message, code, exit, hint);
}
