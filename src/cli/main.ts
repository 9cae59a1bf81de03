import { Command, CommanderError } from 'commander';
import { EXIT, TnError, isTnError } from '../core/errors.js';
import type { CommandContext, DefineCommand } from './command.js';
import { defineAccount } from './commands/account.js';
import { defineAdmin } from './commands/admin.js';
import { defineAgent } from './commands/agent.js';
import { defineAuth } from './commands/auth.js';
import { defineAvailability } from './commands/availability.js';
import { defineBatch } from './commands/batch.js';
import { defineCancel } from './commands/cancel.js';
import { defineCompletion } from './commands/completion.js';
import { defineConfig } from './commands/config.js';
import { defineDeposit } from './commands/deposit.js';
import { defineHealth } from './commands/health.js';
import { defineHelp } from './commands/help.js';
import { defineListen } from './commands/listen.js';
import { defineOrder } from './commands/order.js';
import { defineOrders } from './commands/orders.js';
import { definePrices } from './commands/prices.js';
import { defineRetry } from './commands/retry.js';
import { defineServe } from './commands/serve.js';
import { defineServices } from './commands/services.js';
import { defineStatus } from './commands/status.js';
import { defineUsage } from './commands/usage.js';
import { defineVerify } from './commands/verify.js';
import { defineUi } from './commands/ui.js';
import { defineWait } from './commands/wait.js';
import { defineWebhook } from './commands/webhook.js';
import { Factory } from './factory.js';
import { processIO, type IO } from './io.js';
import { printJson } from './output.js';
import { VERSION } from './version.js';

const COMMANDS: readonly DefineCommand[] = [
  defineVerify,
  defineOrder,
  defineStatus,
  defineWait,
  defineCancel,
  defineRetry,
  defineBatch,
  defineServices,
  definePrices,
  defineAvailability,
  defineOrders,
  defineAccount,
  defineDeposit,
  defineUsage,
  defineAgent,
  defineAuth,
  defineHealth,
  defineWebhook,
  defineListen,
  defineConfig,
  defineServe,
  defineUi,
  defineAdmin,
  defineCompletion,
  defineHelp,
];

/** Builds the program; `main` runs it. Exposed so completion and tests can walk the command tree. */
export function buildProgram(io: IO, ctx: CommandContext): Command {
  const program = new Command('tn')
    .description('Temporary phone numbers and SMS verification codes.\nWith no account and no network, the embedded sandbox broker answers.')
    .version(VERSION, '-V, --version')
    .option('--endpoint <url|local>', 'broker to use: local (embedded) or a URL (env TN_ENDPOINT)')
    .option('--json', 'print one JSON document on stdout (errors too)')
    .option('--no-color', 'no colour, even on a terminal')
    .option('-q, --quiet', 'no hints or progress on stderr')
    .helpCommand(false)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .addHelpText(
      'after',
      `
Examples:
  $ tn verify instagram               # order, wait, print the code
  $ code=$(tn verify wa --country gb)  # in a script: stdout is only the code
  $ tn order telegram --json          # the order object; then tn wait <id>
  $ tn services                       # platforms and prices

Run \`tn help exit-codes\` for exit codes and \`tn help environment\` for environment variables.`,
    );
  for (const define of COMMANDS) define(program, ctx);
  for (const cmd of program.commands) applyCommonSettings(cmd, io);
  return program;
}

function applyCommonSettings(cmd: Command, io: IO): void {
  cmd.exitOverride().configureOutput({ writeOut: (s) => io.stdout.write(s), writeErr: (s) => io.stderr.write(s) }).showSuggestionAfterError(true);
  for (const sub of cmd.commands) applyCommonSettings(sub, io);
}

/** Runs tn with these arguments and returns the exit code; never calls process.exit itself. */
export async function main(argv: readonly string[], io: IO = processIO()): Promise<number> {
  const json = argv.includes('--json');
  let factory: Factory | undefined;
  let exitCode: number = EXIT.ok;
  const ctx: CommandContext = {
    factory: () => {
      if (!factory) throw new Error('factory used before the command was parsed');
      return factory;
    },
    exit: (code) => {
      exitCode = code;
    },
  };
  const program = buildProgram(io, ctx);
  program.hook('preAction', (_root, action) => {
    const opts = action.optsWithGlobals<{ endpoint?: string; json?: boolean; color?: boolean; quiet?: boolean }>();
    io.color = io.color && opts.color !== false;
    io.quiet = opts.quiet === true;
    factory = new Factory(io, { endpoint: opts.endpoint, json: opts.json === true, color: io.color, quiet: io.quiet });
  });

  // Plain `tn` on a terminal opens the app; piped or in CI it prints help, as scripts expect.
  const interactive = io.stdinIsTTY && io.stdoutIsTTY && !io.env.CI;
  if (argv.length > 0 && argv.every((a) => a === '--json')) {
    // `--json` promises one JSON document: without a command, that is a usage error.
    printJson(io, { error: new TnError('invalid_request', 'No command given: see `tn --help`.').toBody() });
    return EXIT.usage;
  }
  if (argv.length === 0 && !interactive) {
    program.outputHelp();
    return EXIT.ok;
  }
  const args = argv.length === 0 ? ['ui'] : argv;
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io, json);
  } finally {
    await factory?.close().catch(() => undefined);
  }
}

/** The one place where a failure becomes output and an exit code. */
export function reportError(err: unknown, io: IO, json: boolean): number {
  if (err instanceof CommanderError) {
    if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help') return EXIT.ok;
    // Commander has already printed its message on stderr.
    if (json) printJson(io, { error: new TnError('invalid_request', err.message.replace(/^error: /, '')).toBody() });
    return EXIT.usage;
  }
  if (isTnError(err)) {
    if (json) printJson(io, { error: err.toBody() });
    else {
      io.stderr.write(`tn: ${err.message}\n`);
      const hint = hintFor(err);
      if (hint && !io.quiet) io.stderr.write(`${hint}\n`);
    }
    return err.exitCode;
  }
  const message = err instanceof Error ? err.message : String(err);
  if (json) printJson(io, { error: { code: 'internal', message, status: 500 } });
  io.stderr.write(`tn: unexpected error: ${message}\nThis is a bug in tn. Run again with TN_DEBUG=1 for details and report it.\n`);
  if (io.env.TN_DEBUG && err instanceof Error && err.stack) io.stderr.write(err.stack + '\n');
  return EXIT.bug;
}

function hintFor(err: TnError): string | undefined {
  switch (err.code) {
    case 'unauthorized':
      return 'Check TN_API_KEY, or the key in `tn config list`.';
    case 'insufficient_balance':
      return 'Add credit: `tn admin credit <account_id> <usd>` on the broker (see `tn account`).';
    case 'unknown_platform': {
      const suggestions = err.details.suggestions;
      return Array.isArray(suggestions) && suggestions.length ? `Did you mean ${suggestions.join(', ')}? See \`tn services\`.` : 'See `tn services`.';
    }
    case 'no_numbers':
      return 'See `tn availability` for stock.';
    default:
      return undefined;
  }
}
