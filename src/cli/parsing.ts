/**
 * What akm adds to Commander's parsing: typed usage errors with "did you mean …?" hints, option
 * values that are really the next option refused, and command groups (`akm users`) that show
 * their help instead of failing with an internal message.
 */
import { InvalidArgumentError, type Argument, type CommanderError, type Command, type Option } from 'commander';
import { UsageError } from '../core/errors.js';
import { didYouMean, notOneOf } from '../core/suggest.js';
import { commanderCode, HelpShownError } from './errors.js';
import { missingError } from './io/prompter.js';

/** "akm users add" */
export function commandPath(command: Command): string {
  const names: string[] = [];
  for (let c: Command | null = command; c; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function commandNames(command: Command): string[] {
  return command.commands.flatMap((c) => [c.name(), ...c.aliases()]);
}

function unknownCommand(command: Command, word: string): UsageError {
  const names = commandNames(command);
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

/**
 * `akm craete --name x`: Commander looks at the options before it finds that `craete` names no
 * command. The word is the mistake, and the flags cannot be judged without a command.
 */
function strayCommandWord(command: Command): string | undefined {
  const word = command.args[0];
  if (command.commands.length === 0 || word === undefined || word.startsWith('-')) return undefined;
  return commandNames(command).includes(word) ? undefined : word;
}

/**
 * Every required argument and flag still missing, in one error: a pipeline author fixes them in
 * one go instead of rerunning once per flag. Commander stops at the first.
 */
function missingInputs(command: Command): UsageError {
  const flags = command.options
    .filter((option) => option.mandatory && command.getOptionValue(option.attributeName()) === undefined)
    .map((option) => option.flags);
  const args = command.registeredArguments
    .filter((argument, i) => argument.required && command.args[i] === undefined)
    .map((argument) => `<${argument.name()}>`);
  return missingError([...args, ...flags], {
    hint: `usage: ${commandPath(command)} ${command.usage()}`,
    code: flags.length > 0 ? 'missing_flag' : 'missing_argument',
  });
}

/** `--group` at the end of the line: "--group needs a value", not Commander's "argument missing". */
function optionWithoutValue(command: Command, message: string): UsageError {
  const flags = /option '([^']*)'/.exec(message)?.[1] ?? '';
  const flag = flags.split(/[ ,]+/).find((part) => part.startsWith('--')) ?? flags;
  return new UsageError(`${flag} needs a value`, {
    hint: `usage: ${flags}`,
    code: 'option_missing_argument',
  });
}

/** `akm show a b`: which words are too many, and what the command takes. */
function tooManyArguments(command: Command): UsageError {
  const takes = command.registeredArguments.map((a) => (a.required ? `<${a.name()}>` : `[${a.name()}]`));
  const extra = command.args.slice(takes.length).join(' ');
  // `akm create deploy-bot`: a name where the command takes it only as --name.
  const named = takes.length === 0 && command.options.some((o) => o.long === '--name') && !/\s/.test(extra);
  return new UsageError(
    `too many arguments for ${commandPath(command)}: "${extra.slice(0, 60)}" (it takes ${takes.join(' ') || 'none'})`,
    {
      hint: named ? `did you mean --name ${extra}?` : `usage: ${commandPath(command)} ${command.usage()}`,
      code: 'excess_arguments',
    },
  );
}

/** Commander's errors as akm's own, with the command they happened in at hand. */
function translate(error: CommanderError, command: Command): Error {
  const stray = strayCommandWord(command);
  if (error.code === 'commander.unknownOption' && stray !== undefined) return unknownCommand(command, stray);
  if (error.code === 'commander.unknownOption') return unknownOption(command, error.message);
  if (error.code === 'commander.missingArgument' || error.code === 'commander.missingMandatoryOptionValue')
    return missingInputs(command);
  if (error.code === 'commander.optionMissingArgument') return optionWithoutValue(command, error.message);
  // `akm audit verfy`: a command with both an action and subcommands sees a stray word.
  const strayWord = error.code === 'commander.excessArguments' && command.commands.length > 0;
  if (error.code === 'commander.unknownCommand' || strayWord) return unknownCommand(command, command.args[0] ?? '');
  if (error.code === 'commander.excessArguments') return tooManyArguments(command);
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
 * A group of commands (`akm`, `akm users`, `akm config`): on its own it prints its help on
 * stdout and exits 0, as gh does; under --json, where stdout is one JSON document, it is an
 * error instead. A word it does not know is an unknown command, with a suggestion.
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
      if (self.optsWithGlobals<{ json?: boolean }>().json !== true) return self.outputHelp();
      throw new HelpShownError(`${commandPath(self)} needs a command`, {
        hint: `see ${commandPath(self)} --help`,
        code: 'missing_command',
      });
    });
}

/**
 * `akm help crete`: Commander answers a word it does not know with the whole help on stderr and
 * no word of what went wrong. akm answers as for `akm crete`. (Commander has no public hook for
 * its help command, hence the wrap of its dispatcher.)
 */
function helpNamesKnownCommands(command: Command): void {
  const dispatcher = command as unknown as { _dispatchHelpCommand(word?: string): unknown };
  const dispatch = dispatcher._dispatchHelpCommand.bind(command);
  dispatcher._dispatchHelpCommand = (word?: string) => {
    if (word !== undefined && !commandNames(command).includes(word)) throw unknownCommand(command, word);
    return dispatch(word);
  };
}

/** "--tenant-level" after "--name" is the next option, not a name: say so instead of taking it. */
function looksLikeOption(value: string): boolean {
  return /^--?[A-Za-z]/.test(value);
}

/**
 * A value outside an option's (or argument's) choices, in akm's words: the flag, the allowed
 * values, the nearest one. Commander's own message names neither in a form one can act on.
 */
function checkChoices(target: Option | Argument, name: string): void {
  const choices = target.argChoices;
  const parse = target.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
  if (!choices || !parse) return;
  target.parseArg = <T>(value: string, previous: T): T => {
    if (!choices.includes(value)) throw notOneOf(name, value, choices);
    return parse(value, previous) as T;
  };
}

/** A parser's InvalidArgumentError ("needs a whole number…") as one line naming the flag and the value. */
function readValue(command: Command, flag: string, value: string, parse: () => unknown): unknown {
  try {
    return parse();
  } catch (error) {
    if (!(error instanceof InvalidArgumentError)) throw error;
    throw new UsageError(`${flag} ${error.message}, got "${value.slice(0, 40)}"`, {
      hint: `see ${commandPath(command)} --help`,
      code: 'invalid_argument',
    });
  }
}

function refuseOptionLikeValues(command: Command): void {
  for (const option of command.options) {
    if (!option.required && !option.optional) continue;
    const flag = option.long ?? option.flags;
    checkChoices(option, flag);
    const parse = option.parseArg as ((value: string, previous: unknown) => unknown) | undefined;
    option.parseArg = <T>(value: string, previous: T): T => {
      if (looksLikeOption(value))
        throw new UsageError(`${flag} needs a value, not the option ${value}`, {
          hint: `usage: ${option.flags}`,
          code: 'option_missing_argument',
        });
      return (parse ? readValue(command, flag, value, () => parse(value, previous)) : value) as T;
    };
  }
  for (const argument of command.registeredArguments) checkChoices(argument, `<${argument.name()}>`);
}

/** Applied to every command once the program is built. */
export function hardenParsing(command: Command): void {
  // Subcommands copy their parent's settings when created; only groups take stray words.
  command.allowExcessArguments(groups.has(command));
  command.exitOverride((error) => {
    throw translate(error, command);
  });
  refuseOptionLikeValues(command);
  if (command.commands.length > 0) helpNamesKnownCommands(command);
  command.commands.forEach(hardenParsing);
}
