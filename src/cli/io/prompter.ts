/**
 * The one door to Inquirer. Every prompt declares the flag that answers it, so when nobody can
 * answer (no terminal, --no-input, CI) the user learns exactly what to pass instead.
 * Prompts draw on stderr: stdout stays clean for data even in an interactive run.
 */
import { CancelledError, UsageError } from '../../core/errors.js';

export interface Choice<T> {
  name: string;
  value: T;
  description?: string;
  /** shown but not selectable, with this reason beside it */
  disabled?: string;
}

/** Checks an answer as it is typed: true, or the reason shown under the prompt. */
type Validate = (value: string) => string | true | Promise<string | true>;

export interface Prompter {
  readonly canPrompt: boolean;
  input(q: {
    message: string;
    flag: string;
    default?: string;
    validate?: Validate;
    /** how the answer shows while typed and after (e.g. a secret masked); the value itself is unchanged */
    mask?: (value: string) => string;
  }): Promise<string>;
  password(q: { message: string; flag: string }): Promise<string>;
  select<T>(q: { message: string; flag: string; choices: Choice<T>[]; default?: T }): Promise<T>;
  checkbox<T>(q: { message: string; flag: string; choices: Choice<T>[] }): Promise<T[]>;
  /** Without a terminal, `fallback` answers (e.g. the value of --yes); none → usage error naming the flag. */
  confirm(q: { message: string; flag: string; default?: boolean; fallback?: boolean }): Promise<boolean>;
}

const NO_TERMINAL = 'no terminal to ask on (or --no-input/CI is set): pass it as a flag';

/** "missing --name <name>, --owner <email> and --expires-in <days>": every missing input in one error. */
export function missingError(
  inputs: string[],
  options: { hint?: string; code?: 'missing_flag' | 'missing_argument' } = {},
): UsageError {
  const last = inputs.at(-1) ?? '';
  const named = inputs.length > 1 ? `${inputs.slice(0, -1).join(', ')} and ${last}` : last;
  return new UsageError(`missing ${named}`, {
    hint: options.hint ?? (inputs.length > 1 ? 'pass them as flags' : 'pass it as a flag'),
    code: options.code ?? 'missing_flag',
  });
}

function missing(flag: string): UsageError {
  return missingError([flag], { hint: NO_TERMINAL });
}

/** Inquirer signals Ctrl-C with ExitPromptError; akm turns it into exit code 130. */
async function cancellable<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof Error && (error.name === 'ExitPromptError' || error.name === 'AbortPromptError'))
      throw new CancelledError();
    throw error;
  }
}

/** The prompts akm uses from @inquirer/prompts; a test may stand in for a person with scripted answers. */
export type Inquirer = Pick<
  typeof import('@inquirer/prompts'),
  'input' | 'password' | 'select' | 'checkbox' | 'confirm'
>;

export class InquirerPrompter implements Prompter {
  constructor(
    readonly canPrompt: boolean,
    private readonly streams: { input: NodeJS.ReadableStream; output: NodeJS.WritableStream },
    private readonly load: () => Promise<Inquirer> = () => import('@inquirer/prompts'),
  ) {}

  private async inquirer(): Promise<Inquirer> {
    if (!this.canPrompt) throw new Error('prompt without a terminal');
    return this.load();
  }

  private get context() {
    return { input: this.streams.input, output: this.streams.output, clearPromptOnDone: false };
  }

  async input(q: {
    message: string;
    flag: string;
    default?: string;
    validate?: Validate;
    mask?: (value: string) => string;
  }): Promise<string> {
    if (!this.canPrompt) throw missing(q.flag);
    const { input } = await this.inquirer();
    const transformer = q.mask;
    return cancellable(() =>
      input(
        {
          message: q.message,
          default: q.default,
          validate: q.validate,
          ...(transformer ? { transformer: (value: string) => transformer(value) } : {}),
        },
        this.context,
      ),
    );
  }

  async password(q: { message: string; flag: string }): Promise<string> {
    if (!this.canPrompt) throw missing(q.flag);
    const { password } = await this.inquirer();
    return cancellable(() => password({ message: q.message, mask: '*' }, this.context));
  }

  async select<T>(q: { message: string; flag: string; choices: Choice<T>[]; default?: T }): Promise<T> {
    if (!this.canPrompt) throw missing(q.flag);
    const { select } = await this.inquirer();
    return cancellable(() => select<T>({ message: q.message, choices: q.choices, default: q.default }, this.context));
  }

  async checkbox<T>(q: { message: string; flag: string; choices: Choice<T>[] }): Promise<T[]> {
    if (!this.canPrompt) throw missing(q.flag);
    if (q.choices.length === 0) return [];
    const { checkbox } = await this.inquirer();
    return cancellable(() => checkbox<T>({ message: q.message, choices: q.choices }, this.context));
  }

  async confirm(q: { message: string; flag: string; default?: boolean; fallback?: boolean }): Promise<boolean> {
    if (!this.canPrompt) {
      if (q.fallback !== undefined) return q.fallback;
      throw missing(q.flag);
    }
    const { confirm } = await this.inquirer();
    return cancellable(() => confirm({ message: q.message, default: q.default ?? false }, this.context));
  }
}
