/**
 * Messages for people (errors, hints, warnings, notices) wrapped at word boundaries to the
 * width of the terminal that shows them, as git and gh do. A command inside a message
 * (`akm list --owner x@acme.test`) is never broken: whoever copies it gets it whole, and one
 * too long for the line overflows rather than being split. Only on a terminal: piped stderr
 * and JSON stay one line per message, for scripts and logs.
 */
import { Writable } from 'node:stream';
import { displayWidth } from './width.js';

/** A label that continuation lines align under: "error: ", "hint: ", "warning: ", "! ", "✓ ". */
const LABEL = /^(\s*)((?:\u001b\[[\d;]*m)*(?:(?:error|hint|warning|note):|[!✓✗•-])(?:\u001b\[[\d;]*m)* )?/u;
/** Words that end a command in a sentence ("… akm activate KEY to end it"). */
const PROSE = new Set(['or', 'and', 'then', 'to', 'first', 'instead', 'if', 'for', 'when', 'so']);

/** The words of a line, with each command (from `akm` to its end) glued into one unit. */
function units(text: string): string[] {
  const words = text.split(' ').filter((w) => w !== '');
  const out: string[] = [];
  for (let i = 0; i < words.length; i++) {
    const word = words[i]!;
    if (!/^[("'`]?akm$/.test(word) || i + 1 >= words.length || PROSE.has(words[i + 1]!)) {
      out.push(word);
      continue;
    }
    const command = [word];
    while (i + 1 < words.length && !/[;,)`]$/.test(command.at(-1)!) && !PROSE.has(words[i + 1]!))
      command.push(words[++i]!);
    out.push(command.join(' '));
  }
  return out;
}

/** One line wrapped to `width` cells; continuation lines indented under its text. */
function wrapLine(line: string, width: number): string {
  if (displayWidth(line) <= width) return line;
  const [label, indent = '', tag = ''] = LABEL.exec(line)!;
  const hanging = ' '.repeat(displayWidth(indent + tag));
  const lines: string[] = [];
  let current = label;
  let room = width - displayWidth(label);
  for (const unit of units(line.slice(label.length))) {
    const size = displayWidth(unit);
    const fresh = current === label;
    if (!fresh && size + 1 > room) {
      lines.push(current);
      current = hanging + unit;
      room = width - hanging.length - size;
    } else {
      current += fresh ? unit : ` ${unit}`;
      room -= fresh ? size : size + 1;
    }
  }
  lines.push(current);
  return lines.join('\n');
}

/** Every line of `text` wrapped to `width` cells (the text's own line breaks stay). */
export function wrapText(text: string, width: number): string {
  // Below this, wrapping would only make a narrow column of words harder to read.
  if (width < 20) return text;
  return text
    .split('\n')
    .map((line) => wrapLine(line, width))
    .join('\n');
}

/** A stream that wraps what is written to it before passing it on: for the error report. */
export function wrappingStream(target: NodeJS.WritableStream, width: number): NodeJS.WritableStream {
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      target.write(wrapText(chunk.toString(), width));
      done();
    },
  });
}
