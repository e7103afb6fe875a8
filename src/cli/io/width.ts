/** How wide text is on a terminal: in cells, not characters or bytes. */
import { stripVTControlCharacters } from 'node:util';

// East Asian wide and fullwidth characters, and most emoji, take two cells of a terminal.
const WIDE = new RegExp(
  '[\\u1100-\\u115f\\u2e80-\\ua4cf\\uac00-\\ud7a3\\uf900-\\ufaff\\ufe30-\\ufe4f\\uff00-\\uff60\\uffe0-\\uffe6' +
    '\\u{1f300}-\\u{1f64f}\\u{1f900}-\\u{1f9ff}\\u{20000}-\\u{3fffd}]',
  'u',
);

/** How many terminal cells a (possibly coloured) string takes. */
export function displayWidth(text: string): number {
  let width = 0;
  for (const char of stripVTControlCharacters(text)) width += WIDE.test(char) ? 2 : 1;
  return width;
}
