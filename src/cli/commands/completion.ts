import type { Command } from 'commander';
import { InvalidArgumentError } from 'commander';
import { EXIT } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';

const SHELLS = ['bash', 'zsh', 'fish'] as const;
type Shell = (typeof SHELLS)[number];

export const defineCompletion: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('completion')
    .description('Print a shell completion script')
    .argument('<shell>', 'bash, zsh or fish', (value: string): Shell => {
      if (!(SHELLS as readonly string[]).includes(value)) throw new InvalidArgumentError('choose bash, zsh or fish');
      return value as Shell;
    })
    .action((shell: Shell) => {
      ctx.factory().io.out(completionScript(program, shell));
      ctx.exit(EXIT.ok);
    });
  examples(cmd, ['source <(tn completion bash)', 'tn completion zsh > "${fpath[1]}/_tn"', 'tn completion fish > ~/.config/fish/completions/tn.fish']);
};

interface Spec {
  path: string[];
  subcommands: string[];
  options: string[];
  description: string;
}

/** Walks the command tree, so completion never falls behind the commands that exist. */
function specs(command: Command, path: string[] = []): Spec[] {
  const own: Spec = {
    path,
    subcommands: visible(command).map((c) => c.name()),
    options: command.options.flatMap((o) => [o.long, o.short].filter((x): x is string => !!x)),
    description: command.description(),
  };
  return [own, ...visible(command).flatMap((c) => specs(c, [...path, c.name()]))];
}

/** `tn __complete`, which the scripts call for values, is not offered itself. */
const visible = (command: Command): Command[] => command.commands.filter((c) => !c.name().startsWith('__'));

/** Commands whose argument is a platform, and those whose argument is an order of the account. */
const PLATFORM_COMMANDS = ['verify', 'order', 'batch'];
const ORDER_COMMANDS = ['status', 'wait', 'cancel', 'retry'];
const CONFIG_KEY_COMMANDS = ['get', 'set', 'unset'];

export function completionScript(program: Command, shell: Shell): string {
  const all = specs(program);
  const globals = all[0]!.options;
  if (shell === 'bash') {
    const cases = all
      .map((s) => `    "${s.path.join(' ')}") echo "${[...s.subcommands, ...s.options, ...(s.path.length ? globals : [])].join(' ')}" ;;`)
      .join('\n');
    return `# tn bash completion: source <(tn completion bash)
_tn_words() {
  case "$1" in
${cases}
  esac
}
_tn() {
  local cur="\${COMP_WORDS[COMP_CWORD]}" prev="\${COMP_WORDS[COMP_CWORD-1]}" path="" arg="" w i values=""
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    case "$w" in -*) continue ;; esac
    case " $(_tn_words "$path") " in *" $w "*) path="\${path:+$path }$w" ;; *) arg="\${arg:-$w}" ;; esac
  done
  # Values come from tn itself: platforms, countries with stock, active orders, config keys.
  case "$prev" in
    -c|--country) COMPREPLY=($(compgen -W "$(tn __complete countries "$arg" 2>/dev/null)" -- "$cur")); return ;;
    -p|--platform) COMPREPLY=($(compgen -W "$(tn __complete platforms 2>/dev/null)" -- "$cur")); return ;;
  esac
  if [[ "$cur" != -* ]]; then
    case "$path" in
      ${PLATFORM_COMMANDS.join('|')}) values="$(tn __complete platforms 2>/dev/null)" ;;
      ${ORDER_COMMANDS.join('|')}) values="$(tn __complete orders 2>/dev/null)" ;;
      ${CONFIG_KEY_COMMANDS.map((c) => `"config ${c}"`).join('|')}) values="$(tn __complete config-keys 2>/dev/null)" ;;
    esac
  fi
  COMPREPLY=($(compgen -W "$(_tn_words "$path") $values" -- "$cur"))
}
complete -F _tn tn
`;
  }
  if (shell === 'zsh') {
    const top = all[0]!.subcommands.map((name) => {
      const spec = all.find((s) => s.path.length === 1 && s.path[0] === name)!;
      return `    '${name}:${spec.description.replace(/'/g, "'\\''").replace(/:/g, '\\:')}'`;
    });
    return `#compdef tn
# tn zsh completion: tn completion zsh > "\${fpath[1]}/_tn"
_tn() {
  local -a commands
  commands=(
${top.join('\n')}
  )
  if (( CURRENT == 2 )); then
    _describe 'command' commands
  elif [[ "\${words[CURRENT-1]}" == (-c|--country) ]]; then
    compadd -- $(tn __complete countries "\${words[3]}" 2>/dev/null)
  elif [[ "\${words[CURRENT-1]}" == (-p|--platform) ]]; then
    compadd -- $(tn __complete platforms 2>/dev/null)
  else
    case "\${words[2]}" in
      ${PLATFORM_COMMANDS.join('|')}) compadd -- $(tn __complete platforms 2>/dev/null) ;|
      ${ORDER_COMMANDS.join('|')}) compadd -- $(tn __complete orders 2>/dev/null) ;|
      config) [[ "\${words[3]}" == (${CONFIG_KEY_COMMANDS.join('|')}) ]] && compadd -- $(tn __complete config-keys 2>/dev/null) ;|
${all
  .filter((s) => s.path.length === 1)
  .map((s) => `      ${s.path[0]}) compadd -- ${[...s.subcommands, ...s.options, ...globals].join(' ')} ;;`)
  .join('\n')}
    esac
  fi
}
compdef _tn tn
`;
  }
  const lines = ['# tn fish completion: tn completion fish > ~/.config/fish/completions/tn.fish', 'complete -c tn -f'];
  for (const s of all.filter((x) => x.path.length === 1)) {
    lines.push(`complete -c tn -n __fish_use_subcommand -a ${s.path[0]} -d '${s.description.replace(/'/g, "\\'")}'`);
    for (const sub of s.subcommands) lines.push(`complete -c tn -n '__fish_seen_subcommand_from ${s.path[0]}' -a ${sub}`);
    for (const opt of s.options.filter((o) => o.startsWith('--'))) {
      lines.push(`complete -c tn -n '__fish_seen_subcommand_from ${s.path[0]}' -l ${opt.slice(2)}`);
    }
  }
  for (const opt of globals.filter((o) => o.startsWith('--'))) lines.push(`complete -c tn -l ${opt.slice(2)}`);
  lines.push(
    `complete -c tn -n '__fish_seen_subcommand_from ${PLATFORM_COMMANDS.join(' ')}' -a '(tn __complete platforms 2>/dev/null)'`,
    `complete -c tn -n '__fish_seen_subcommand_from ${ORDER_COMMANDS.join(' ')}' -a '(tn __complete orders 2>/dev/null)'`,
    `complete -c tn -n '__fish_seen_subcommand_from config; and __fish_seen_subcommand_from ${CONFIG_KEY_COMMANDS.join(' ')}' -a '(tn __complete config-keys 2>/dev/null)'`,
    `complete -c tn -s c -l country -x -a '(tn __complete countries (commandline -opc)[3] 2>/dev/null)'`,
    `complete -c tn -s p -l platform -x -a '(tn __complete platforms 2>/dev/null)'`,
  );
  return lines.join('\n') + '\n';
}
