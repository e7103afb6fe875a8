/** One way to print benchmark rows: what, the measured value, the target, and whether it was met. */
export interface BenchRow {
  what: string;
  value: string;
  target: string;
  ok: boolean;
}

export function printBenchRows(title: string, rows: BenchRow[]): void {
  console.log(`\n${title}`);
  const width = Math.max(...rows.map((r) => r.what.length));
  for (const r of rows)
    console.log(`  ${r.what.padEnd(width)}  ${r.value.padEnd(34)} ${r.target.padEnd(12)} ${r.ok ? 'ok' : 'MISSED'}`);
}
