/**
 * The totals below the credential report, gathered row by row as the pages stream past, so a
 * report of any size is summed in constant memory: keys per finding, and active keys expiring
 * in each of the next weeks. Weeks are whole days in UTC, starting at 00:00 UTC today: the same
 * boundaries in the table, the JSON and the CSV, wherever the report is run.
 */
import { FINDINGS, type Finding, type ReportRow } from './findings.js';

const WEEK_MS = 7 * 86_400_000;
export const CHART_WEEKS = 12;

export interface WeekCount {
  /** the week runs for seven days from this midnight (UTC) */
  weekStart: string;
  count: number;
}

export interface ReportSummary {
  keys: number;
  findings: Record<Finding, number>;
  /** active keys expiring in each of the next 12 weeks, counted from 00:00 UTC today */
  expiriesPerWeek: WeekCount[];
}

export class SummaryBuilder {
  private readonly counts = Object.fromEntries(FINDINGS.map((f) => [f, 0])) as Record<Finding, number>;
  private readonly weeks = new Array<number>(CHART_WEEKS).fill(0);
  private keys = 0;

  private readonly today: number;

  constructor(now: Date) {
    this.today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  }

  add(row: Pick<ReportRow, 'status' | 'expiresAt' | 'findings'>): void {
    this.keys += 1;
    for (const finding of row.findings) this.counts[finding] += 1;
    if (row.status !== 'active' || row.expiresAt === null) return;
    const week = Math.floor((Date.parse(row.expiresAt) - this.today) / WEEK_MS);
    if (week >= 0 && week < CHART_WEEKS) this.weeks[week]! += 1;
  }

  result(): ReportSummary {
    return {
      keys: this.keys,
      findings: { ...this.counts },
      expiriesPerWeek: this.weeks.map((count, i) => ({
        weekStart: new Date(this.today + i * WEEK_MS).toISOString(),
        count,
      })),
    };
  }
}
