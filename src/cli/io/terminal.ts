/** What the terminal around us can do; decided once per run from the streams, flags and env. */
export interface Terminal {
  stdinIsTTY: boolean;
  stdoutIsTTY: boolean;
  stderrIsTTY: boolean;
  /** colour on stdout and stderr: only on a terminal, never with NO_COLOR or --no-color */
  color: boolean;
  /** colour on stderr, decided on its own: `akm list | jq` still warns in colour on a terminal */
  stderrColor: boolean;
  /** a person can answer prompts: stdin and stdout are terminals, no --no-input, no CI */
  canPrompt: boolean;
  columns: number;
  /** the width of stderr, when it is a terminal: messages for people wrap to it */
  stderrColumns: number | undefined;
}

export interface TerminalInputs {
  stdin: { isTTY?: boolean };
  stdout: { isTTY?: boolean; columns?: number };
  stderr: { isTTY?: boolean; columns?: number };
  env: NodeJS.ProcessEnv;
  noColorFlag: boolean;
  noInputFlag: boolean;
}

export function detectTerminal(inputs: TerminalInputs): Terminal {
  const { env } = inputs;
  const stdinIsTTY = inputs.stdin.isTTY === true;
  const stdoutIsTTY = inputs.stdout.isTTY === true;
  const stderrIsTTY = inputs.stderr.isTTY === true;
  // chalk ignores NO_COLOR, so it is honoured here explicitly (https://no-color.org).
  const noColor = inputs.noColorFlag || (env.NO_COLOR !== undefined && env.NO_COLOR !== '') || env.TERM === 'dumb';
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  return {
    stdinIsTTY,
    stdoutIsTTY,
    stderrIsTTY,
    color: !noColor && (stdoutIsTTY || forced),
    stderrColor: !noColor && (stderrIsTTY || forced),
    canPrompt: stdinIsTTY && stdoutIsTTY && !inputs.noInputFlag && !isCI(env),
    columns: inputs.stdout.columns ?? 100,
    stderrColumns: terminalWidth(inputs.stderr),
  };
}

/** The width to wrap a person's messages to: a terminal's, and none for a pipe or a file. */
export function terminalWidth(stream: { isTTY?: boolean; columns?: number }): number | undefined {
  return stream.isTTY === true ? stream.columns : undefined;
}

export function isCI(env: NodeJS.ProcessEnv): boolean {
  return env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI.toLowerCase() !== 'false';
}
