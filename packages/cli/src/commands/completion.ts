import { Command } from '@commander-js/extra-typings';
import type { GetContext } from './index.ts';

type Node = { name: string; options: string[]; children: Node[] };

function tree(cmd: Command): Node {
  return {
    name: cmd.name(),
    options: cmd.options.flatMap((o) => [o.short, o.long].filter((x): x is string => Boolean(x))),
    children: (cmd.commands as Command[]).map((c) => tree(c as Command)),
  };
}

/** A bash completion script generated from the command tree (so it never drifts from the commands). */
export function bashCompletion(root: Node): string {
  const cases: string[] = [];
  const walk = (n: Node, path: string) => {
    const words = [...n.children.map((c) => c.name), ...n.options, '--help'].join(' ');
    cases.push(`    "${path}") words="${words}" ;;`);
    for (const c of n.children) walk(c, path ? `${path} ${c.name}` : c.name);
  };
  walk(root, '');
  return `# bash completion for toolforge; enable with: source <(toolforge completion bash)
_toolforge() {
  local cur path="" w words i
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    w="\${COMP_WORDS[i]}"
    [[ $w == -* ]] && continue
    path="\${path:+$path }$w"
  done
  case "$path" in
${cases.join('\n')}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
}
complete -F _toolforge toolforge
`;
}

export function completionCommand(ctx: GetContext, program: () => Command) {
  return new Command('completion')
    .description('print a shell completion script (bash; zsh via bashcompinit)')
    .argument('[shell]', 'bash', 'bash')
    .action((_shell) => {
      ctx().out.line(bashCompletion(tree(program())));
    });
}
