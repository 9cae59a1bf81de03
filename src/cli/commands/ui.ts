import { TnError } from '../../core/errors.js';
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
  // Ink draws only the final frame when CI is set, which would look like a frozen terminal.
  if (f.io.env.CI) f.io.err('Note: CI is set, so the terminal app draws only when it exits; run it without CI in the environment.');
  if (!f.io.stdinIsTTY || !f.io.stdoutIsTTY) {
    throw new TnError('invalid_request', '`tn ui` needs a terminal; in scripts use `tn verify`, `tn order` or `tn services`.');
  }
  const { runUi } = await import('../../tui/run.js');
  return runUi(f.io, () => f.broker(), await defaultCountry(f));
}

/** `tn config set country` if set, else `any`. */
async function defaultCountry(f: Factory): Promise<string> {
  try {
    const value = (await f.config()).get('country');
    return typeof value === 'string' && value ? value : 'any';
  } catch {
    return 'any';
  }
}
