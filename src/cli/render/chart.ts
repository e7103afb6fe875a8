/**
 * A horizontal bar chart in Unicode block characters, eighths of a cell wide, that fits the
 * width it is given: the longest bar takes the room the labels and counts leave.
 */
const EIGHTHS = ['', '▏', '▎', '▍', '▌', '▋', '▊', '▉'];
const FULL = '█';

export interface Bar {
  label: string;
  value: number;
}

/** `value` out of `max`, drawn in at most `cells` cells; any value above zero shows at least an eighth. */
export function bar(value: number, max: number, cells: number): string {
  if (value <= 0 || max <= 0 || cells <= 0) return '';
  const eighths = Math.max(1, Math.round((value / max) * cells * 8));
  return FULL.repeat(Math.floor(eighths / 8)) + EIGHTHS[eighths % 8]!;
}

/** One line per bar: `label  ███▌ 12`, every line within `width` cells. */
export function barChart(bars: readonly Bar[], width: number): string[] {
  const labelWidth = Math.max(0, ...bars.map((b) => b.label.length));
  const countWidth = Math.max(1, ...bars.map((b) => String(b.value).length));
  const max = Math.max(0, ...bars.map((b) => b.value));
  // label, two spaces, the bar, a space, the count
  const cells = Math.max(1, width - labelWidth - countWidth - 3);
  return bars.map((b) => {
    const drawn = bar(b.value, max, cells);
    return `${b.label.padEnd(labelWidth)}  ${drawn}${drawn ? ' ' : ''}${String(b.value)}`;
  });
}
