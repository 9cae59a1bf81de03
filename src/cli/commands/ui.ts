import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';

export const defineUi: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('ui')
    .description('Open the terminal app: browse platforms, order, watch codes arrive')
    .action(async () => ctx.exit(await runUiCommand(ctx.factory())));
  examples(cmd, ['tn ui', 'tn ui --endpoint http://127.0.0.1:8787', 'tn   # on a terminal, plain tn opens it too']);
};

/** Ink and React are loaded here and only here, so no other command pays for them. */
export async function runUiCommand(f: Factory): Promise<number> {
  const { runUi } = await import('../../tui/run.js');
  return runUi(f);
}
