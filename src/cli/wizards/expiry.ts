/** Asking for a validity: the presets, a custom date, or never (with a warning). */
import { parseInstant, resolveExpiry, type ExpiryChoice } from '../../core/expiry.js';
import type { Io } from '../io/io.js';
import type { Prompter } from '../io/prompter.js';
import { validator } from './validator.js';

export const NEVER_EXPIRES_WARNING =
  'a key that never expires stays usable until someone deletes it; a definite expiry is recommended';
const PRESETS = [30, 60, 90, 180, 365];

function untilTyped(text: string): ExpiryChoice {
  return { kind: 'until', at: parseInstant(text), input: text.trim().slice(0, 40) };
}

export async function askExpiry(prompter: Prompter, io: Io, now: () => Date): Promise<ExpiryChoice> {
  for (;;) {
    const picked = await prompter.select<number | 'date' | 'never'>({
      message: 'Valid for',
      flag: '--expires-in <days>, --expires-on <date> or --never-expires',
      choices: [
        ...PRESETS.map((days) => ({ name: `${days} days`, value: days })),
        { name: 'until a date…', value: 'date' as const },
        { name: 'never expires (not recommended)', value: 'never' as const },
      ],
      default: 90,
    });
    if (typeof picked === 'number') return { kind: 'days', days: picked };
    if (picked === 'date') {
      const text = await prompter.input({
        message: 'Expires on (YYYY-MM-DD or ISO timestamp)',
        flag: '--expires-on <date>',
        validate: validator((value) => resolveExpiry(untilTyped(value), now())),
      });
      return untilTyped(text);
    }
    io.warn(NEVER_EXPIRES_WARNING);
    if (
      await prompter.confirm({ message: 'Create a key that never expires?', flag: '--never-expires', default: false })
    )
      return { kind: 'never' };
  }
}
