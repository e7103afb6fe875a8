/**
 * What akm adds to Commander's parsing: typed usage errors with "did you mean …?" hints, option
 * values that are really the next option refused, and command groups (`akm users`) that show
 * their help instead of failing with an internal message.
 */
import type { CommanderError, Command } from 'commander';
import { UsageError } from '../core/errors.js';
import { didYouMean } from '../core/suggest.js';
import { commanderCode, HelpShownError } from './errors.js';

/** "akm users add" */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function unknownCommand(command: Command, word: string): UsageError {
  const names = command.commands.flatMap((c) => [c.name(), ...c.aliases()]);
  return new UsageError(`unknown command '${word}' for ${commandPath(command)}`, {
    hint: didYouMean(word, names) ?? `see ${commandPath(command)} --help`,
    code: 'unknown_command',
  });
}

function unknownOption(command: Command, message: string): UsageError {
  const typed = /'([^']*)'/.exec(message)?.[1]?.split('=')[0] ?? '';
  const flags = ['--help'];
  for (let c: Command | null = command; c; c = c.parent)
    for (const option of c.options) if (option.long) flags.push(option.long);
  return new UsageError(`unknown option '${typed}' for ${commandPath(command)}`, {
    hint: didYouMean(typed, flags) ?? `see ${commandPath(command)} --help`,
    code: 'unknown_option',
  });
}

/** Commander's errors as akm's own, with the command they happened in at hand. */
function translate(error: CommanderError, command: Command): Error {
  if (error.code === 'commander.unknownOption') return unknownOption(command, error.message);
  // `akm audit verfy`: a command with both an action and subcommands sees a stray word.
  const strayWord = error.code === 'commander.excessArguments' && command.commands.length > 0;
  if (error.code === 'commander.unknownCommand' || strayWord) return unknownCommand(command, command.args[0] ?? '');
  // --help and --version end parsing with exit code 0: not an error.
  if (error.exitCode === 0) return error;
  // `akm help nosuch`: Commander printed the help as the answer.
  if (error.code === 'commander.help')
    return new HelpShownError(`no such command for ${commandPath(command)} help`, { code: 'unknown_command' });
  return new UsageError(error.message.replace(/^error:\s*/i, ''), {
    hint: `see ${commandPath(command)} --help`,
    code: commanderCode(error.code),
  });
}

/**
 * A group of commands (`akm`, `akm users`): on its own it prints its help — on stdout with exit
 * 0 for bare `akm`, on stderr with exit 2 for a group — and a word it does not know is an
 * unknown command, with a suggestion.
 */
const groups = new WeakSet<Command>();

export function helpOrUnknown(command: Command): Command {
  groups.add(command);
  // An action of its own would hide Commander's `help [command]`: keep it.
  return command
    .helpCommand(true)
    .allowExcessArguments()
    .action((_flags: object, self: Command) => {
      const word = self.args[0];
      if (word !== undefined) throw unknownCommand(self, word);
      const json = self.optsWithGlobals<{ json?: boolean }>().json === true;
      if (self.parent === null) return self.outputHelp();
      if (!json) self.outputHelp({ error: true });
      throw new HelpShownError(`${commandPath(self)} needs a command`, {
        hint: `see ${commandPath(self)} --help`,
        code: 'missing_command',
      });
    });
}

/** "--tenant-level" after "--name" is the next option, not a name: say so instead of taking it. */
function looksLikeOption(value: string): boolean {
  return /^--?[A-Za-z]/.test(value);
}

function refuseOptionLikeValues(command: Command): void {
  for (const option of command.options) {
    if (!option.required && !option.optional) continue;
    const parse = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
    const flag = option.long ?? option.flags;
    option.parseArg = <T>(value: string, previous: T): T => {
      if (looksLikeOption(value))
        throw new UsageError(`${flag} needs a value, not the option ${value}`, {
          hint: `usage: ${option.flags}`,
          code: 'option_missing_argument',
        });
      return (parse ? parse(value, previous) : value) as T;
    };
  }
}

/** Applied to every command once the program is built. */
export function hardenParsing(command: Command): void {
  // Subcommands copy their parent's settings when created; only groups take stray words.
  command.allowExcessArguments(groups.has(command));
  command.exitOverride((error) => {
    throw translate(error, command);
  });
  refuseOptionLikeValues(command);
  command.commands.forEach(hardenParsing);
}
