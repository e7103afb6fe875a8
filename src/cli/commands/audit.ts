/**
 * akm audit: the tenant's audit trail, newest first, with filters. akm audit verify: check the
 * tenant's MAC chain, name any edited, deleted, inserted or moved record, and list every
 * authorization row (key, role, group, user) whose integrity MAC does not hold. akm audit head:
 * the sealed head to keep elsewhere (pass it back with --expect-head to detect a cut-off tail
 * or a rolled-back store).
 */
import { InvalidArgumentError, type Command } from 'commander';
import { UnavailableError } from '../../core/errors.js';
import { plural } from '../io/format.js';
import { parseInstant } from '../../core/expiry.js';
import type { AuditRecord } from '../../service/types.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { auditTable, verificationText } from '../render/audit.js';
import { parseLimit } from './notifications.js';

export interface AuditOptions {
  since?: string;
  key?: string;
  actor?: string;
  limit?: number;
}

const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000 };

/** "2026-05-01" (from the start of that local day), an ISO timestamp, or "7d" / "12h" / "30m" / "2w" ago. */
export function parseSince(text: string, now: Date): string {
  const value = text.trim();
  const ago = /^(\d{1,6})([mhdw])$/.exec(value);
  if (ago) return new Date(now.getTime() - Number(ago[1]) * UNIT_MS[ago[2]!]!).toISOString();
  const day = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value);
  parseInstant(value, '--since'); // validates both forms (real calendar dates, real times)
  if (day) return new Date(Number(day[1]), Number(day[2]) - 1, Number(day[3])).toISOString();
  return parseInstant(value, '--since').toISOString();
}

export function registerAudit(program: Command, ctx: CommandContext): void {
  const audit = program
    .command('audit')
    .description('show the audit trail, newest first (needs audit:read)')
    .option('--since <when>', 'records from this date, ISO timestamp, or duration ago (7d, 12h)')
    .option('--key <key>', "one key's records: access key id, or name (deleted keys too)")
    .option('--actor <email>', 'records of changes made by this user (or key:AKM…)')
    .option('--limit <n>', 'at most this many records (default 100)', parseLimit)
    .addHelpText(
      'after',
      examples(
        'akm audit --since 7d',
        'akm audit --key deploy-bot --json',
        'akm audit --actor alice@acme.test --limit 20',
        'akm audit verify',
        'akm audit head',
      ),
    )
    .action(async (flags: AuditOptions, command: Command) => runAudit(flags, ctx.deps(command)));
  audit
    .command('verify')
    .description(
      'check the tamper-evident chain and the integrity of keys, roles, groups and users; ' +
        'exit 6 naming what was altered (administrators only)',
    )
    .option(
      '--expect-head <seq:mac>',
      'a head printed by an earlier verify: fail if it is no longer in the trail',
      (v: string) => {
        if (!/^\d+:\S+$/.test(v))
          throw new InvalidArgumentError('needs the "<seq>:<mac>" head printed by akm audit verify');
        return v;
      },
    )
    .addHelpText(
      'after',
      examples(
        'akm audit verify',
        'akm audit head > audit-head.txt',
        'akm audit verify --expect-head "$(cat audit-head.txt)"',
      ),
    )
    .action(async (flags: { expectHead?: string }, command: Command) => runAuditVerify(flags, ctx.deps(command)));
  audit
    .command('head')
    .description(
      "print the sealed head of this tenant's chain (<seq>:<mac>), to keep outside the store (administrators only)",
    )
    .addHelpText(
      'after',
      examples(
        'akm audit head >> /safe/place/audit-heads.txt',
        'akm audit head --json',
        'akm audit verify --expect-head "$(tail -1 /safe/place/audit-heads.txt)"',
      ),
    )
    .action(async (_flags: object, command: Command) => runAuditHead(ctx.deps(command)));
}

const PAGE = 1000;

export async function runAudit(options: AuditOptions, deps: Deps): Promise<void> {
  const { io } = deps;
  const wanted = options.limit ?? 100;
  const service = await deps.service('read');
  const query = {
    since: options.since === undefined ? undefined : parseSince(options.since, deps.now()),
    key: options.key,
    actor: options.actor,
  };
  const records: AuditRecord[] = [];
  let after: string | undefined;
  do {
    const page = await service.listAudit({ ...query, after, limit: Math.min(PAGE, wanted - records.length) });
    records.push(...page.items);
    after = page.next;
  } while (after && records.length < wanted);
  if (io.json) return io.outJson(records);
  if (records.length === 0) return io.info('no audit records match');
  io.out(auditTable(io, records, deps.now()));
}

export async function runAuditVerify(options: { expectHead?: string }, deps: Deps): Promise<void> {
  const { io } = deps;
  const result = await (await deps.service('read')).verifyAudit({ expectHead: options.expectHead });
  if (io.json) io.outJson(result);
  else io.out(verificationText(io, result));
  if (!result.ok) {
    const { problems, alteredRows } = result;
    const chain = problems.length
      ? `the audit trail was tampered with: ${plural(problems.length, 'problem')}, first: ${problems[0]!.message}`
      : null;
    const rows = alteredRows.length
      ? `rows that decide access were altered (${alteredRows.length}), first: ${alteredRows[0]!.message}`
      : null;
    throw new UnavailableError([chain, rows].filter(Boolean).join('; '), {
      hint: 'restore the store from a backup you trust, and find out who could write to it',
      code: chain ? 'audit_tampered' : 'tampered_record',
    });
  }
  if (!io.json)
    io.info(
      'keep the head above somewhere else (or pass it to --expect-head next time) to detect records cut from the end',
    );
}

export async function runAuditHead(deps: Deps): Promise<void> {
  const head = await (await deps.service()).auditHead();
  if (deps.io.json) deps.io.outJson(head);
  else deps.io.out(head.head);
}
