/** akm completion bash|zsh|fish: print a completion script for the shell. */
import { Argument, type Command } from 'commander';
import { examples, type CommandContext } from '../command.js';
import { bashScript, describe, fishScript, zshScript } from '../completion/scripts.js';

export function registerCompletion(program: Command, ctx: CommandContext): void {
  program
    .command('completion')
    .description('print a shell completion script')
    .addArgument(new Argument('<shell>', 'the shell').choices(['bash', 'zsh', 'fish']))
    .addHelpText(
      'after',
      examples('source <(akm completion bash)', 'akm completion fish > ~/.config/fish/completions/akm.fish'),
    )
    .action((shell: 'bash' | 'zsh' | 'fish', _flags: object, command: Command) => {
      const specs = describe(program);
      const script = shell === 'bash' ? bashScript(specs) : shell === 'zsh' ? zshScript(specs) : fishScript(specs);
      ctx.deps(command).io.out(script);
    });
}
