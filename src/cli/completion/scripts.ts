/**
 * Shell completion scripts generated from the Commander tree, so they can never fall behind
 * the commands and flags that really exist.
 */
import type { Command } from 'commander';

export interface CommandSpec {
  path: string[];
  subcommands: string[];
  flags: string[];
}

export function describe(program: Command): CommandSpec[] {
  const specs: CommandSpec[] = [];
  const globalFlags = program.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
  const walk = (command: Command, path: string[]): void => {
    const own = command.options.flatMap((o) => [o.long, o.short].filter((f): f is string => !!f));
    specs.push({
      path,
      subcommands: command.commands.map((c) => c.name()),
      flags: [...new Set([...own, ...globalFlags, '--help'])],
    });
    for (const sub of command.commands) walk(sub, [...path, sub.name()]);
  };
  walk(program, []);
  return specs;
}

export function bashScript(specs: CommandSpec[]): string {
  const cases = specs
    .map((s) => `    "${s.path.join(' ')}") words="${[...s.subcommands, ...s.flags].join(' ')}" ;;`)
    .join('\n');
  return `# akm bash completion — add to ~/.bashrc:  source <(akm completion bash)
_akm_complete() {
  local cur path="" w i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ "$w" == -* ]] && continue
    case "\${path:+$path }$w" in
${specs
  .filter((s) => s.path.length > 0)
  .map((s) => `      "${s.path.join(' ')}") path="${s.path.join(' ')}" ;;`)
  .join('\n')}
    esac
  done
  local words=""
  case "$path" in
${cases}
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _akm_complete akm
`;
}

export function zshScript(specs: CommandSpec[]): string {
  return `#compdef akm
# akm zsh completion — add to ~/.zshrc:  source <(akm completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bashScript(specs)}`;
}

export function fishScript(specs: CommandSpec[]): string {
  const lines = ['# akm fish completion — save as ~/.config/fish/completions/akm.fish', 'complete -c akm -f'];
  for (const spec of specs) {
    const condition =
      spec.path.length === 0
        ? '__fish_use_subcommand'
        : `__fish_seen_subcommand_from ${spec.path[spec.path.length - 1]}`;
    for (const sub of spec.subcommands) lines.push(`complete -c akm -n '${condition}' -a '${sub}'`);
    for (const flag of spec.flags.filter((f) => f.startsWith('--')))
      lines.push(`complete -c akm -n '${condition}' -l '${flag.slice(2)}'`);
  }
  return `${lines.join('\n')}\n`;
}
