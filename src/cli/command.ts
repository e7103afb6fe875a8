/** What every command module gets from the program: a way to build its deps from the parsed globals. */
import type { Command } from 'commander';
import type { Deps } from './deps.js';

export interface CommandContext {
  deps(command: Command): Deps;
}

/** "Examples:" block for --help: every command shows how it is used. */
export function examples(...lines: string[]): string {
  return `\nExamples:\n${lines.map((l) => `  $ ${l}`).join('\n')}\n`;
}

/** Commander collects repeatable options through this. */
export function collect(value: string, previous: string[] = []): string[] {
  return [...previous, value];
}
