/**
 * akm report: one row per key with its age, expiry, last use, secret age and findings, streamed
 * page by page; on a terminal the totals per finding and a chart of the coming expiries follow.
 */
import { Option, type Command } from 'commander';
import { UsageError } from '../../core/errors.js';
import { parseDays } from '../../core/expiry.js';
import { DEFAULT_UNUSED_DAYS, REPORT_COLUMNS, type ReportRow } from '../../core/findings.js';
import { SummaryBuilder } from '../../core/reportSummary.js';
import type { AkmService, ReportQuery } from '../../service/types.js';
import { examples, type CommandContext } from '../command.js';
import type { Deps } from '../deps.js';
import { chooseFormat, JsonArrayWriter, pages, writeRecords, type OutputFormat } from '../io/records.js';

export interface ReportOptions {
  unusedFor?: string;
  format?: Exclude<OutputFormat, 'ndjson'>;
}

export function registerReport(program: Command, ctx: CommandContext): void {
  program
    .command('report')
    .description('the credential report: every key with its age, expiry, last use, secret age and findings')
    .option('--unused-for <days>', `a key not used for this many days is "unused" (default ${DEFAULT_UNUSED_DAYS})`)
    .addOption(
      new Option('--format <format>', 'table, json (as --json) or csv (RFC 4180, a header row)').choices([
        'table',
        'json',
        'csv',
      ]),
    )
    .addHelpText(
      'after',
      `
Findings: unused, never_expires, expires_soon (within 7 days), secret_too_old (the policy's
--rotate-every), policy_violation, no_permissions, inactive (deactivated or expired).
${examples(
  'akm report                                  # on a terminal: the table, totals and a chart',
  'akm report --format csv > keys.csv',
  'akm report --unused-for 30 --json | jq \'.keys[] | select(.findings | index("unused"))\'',
)}`,
    )
    .action(async (flags: ReportOptions, command: Command) => runReport(flags, ctx.deps(command)));
}

function reportPages(service: AkmService, query: ReportQuery, summary: SummaryBuilder): AsyncGenerator<ReportRow[]> {
  return pages(async (after) => {
    const page = await service.reportKeys(query, { after });
    for (const row of page.items) summary.add(row);
    return page;
  });
}

export async function runReport(options: ReportOptions, deps: Deps): Promise<void> {
  const { io } = deps;
  const unusedForDays =
    options.unusedFor === undefined ? DEFAULT_UNUSED_DAYS : parseDays(options.unusedFor, '--unused-for');
  const format = chooseFormat(io, options);
  if (format === 'ndjson') throw new UsageError('the report is a table, JSON or CSV');
  const service = await deps.service('read');
  const now = deps.now();
  const summary = new SummaryBuilder(now);
  const rows = reportPages(service, { unusedForDays }, summary);
  if (format === 'csv') {
    await writeRecords(io, 'csv', rows, REPORT_COLUMNS, false);
  } else if (format === 'json') {
    const policy = await service.getPolicy();
    const head = { generatedAt: now.toISOString(), unusedForDays, policy };
    await io.stream(`${JSON.stringify(head, null, 2).slice(0, -2)},\n  "keys": `);
    const keys = new JsonArrayWriter(io, '  ');
    for await (const page of rows) await keys.write(page);
    await keys.end();
    await io.stream(`,\n  "summary": ${JSON.stringify(summary.result())}\n}\n`);
  } else {
    const { reportTable, reportSummary } = await import('../render/report.js');
    for await (const page of rows) if (page.length > 0) await io.stream(`${reportTable(io, page, now)}\n`);
    const totals = summary.result();
    if (totals.keys === 0) io.info('no keys in your reach');
    else if (io.terminal.stdoutIsTTY) io.out(`\n${reportSummary(io, totals)}`);
  }
}
