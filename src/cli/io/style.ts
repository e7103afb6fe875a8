/**
 * Colour through chalk, loaded only when some stream can show colour. Piped and --json runs
 * (scripts, CI) get a colourless stand-in with chalk's shape and never load chalk at all.
 */
import type { ChalkInstance } from 'chalk';

export type Style = ChalkInstance;
export type ChalkClass = typeof import('chalk').Chalk;

/** Every style is the identity, however chained: plain.bold.yellow('x') === 'x'. */
export const plainStyle: Style = new Proxy((...text: unknown[]) => text.join(' '), {
  get: () => plainStyle,
}) as unknown as Style;

export function styleFor(chalk: ChalkClass | undefined, colour: boolean): Style {
  return colour && chalk ? new chalk({ level: 1 }) : plainStyle;
}

/** Could anything be coloured in this run? Decided before the flags are parsed, so it errs towards loading. */
export function colourPossible(
  streams: { stdout: { isTTY?: boolean }; stderr: { isTTY?: boolean } },
  env: NodeJS.ProcessEnv,
): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  const forced = env.FORCE_COLOR !== undefined && env.FORCE_COLOR !== '0';
  return forced || streams.stdout.isTTY === true || streams.stderr.isTTY === true;
}

export async function loadChalk(): Promise<ChalkClass> {
  return (await import('chalk')).Chalk;
}
