import { Command, CommanderError } from 'commander';
import { EXIT, TnError, isTnError } from '../core/errors.js';
import type { CommandContext, DefineCommand } from './command.js';
import { Factory } from './factory.js';
import { processIO, type IO } from './io.js';
import { attachedHint, printJson } from './output.js';
import { systemErrorToTnError, type ErrorContext } from './system-errors.js';
import { VERSION } from './version.js';

type Loader = () => Promise<DefineCommand>;

/**
 * Every command, by the names it answers to, each loaded only when it runs: a command pays for
 * its own module alone. Help, suggestions and completion load them all.
 */
const COMMANDS: readonly (readonly [names: readonly string[], load: Loader])[] = [
  [['verify'], async () => (await import('./commands/verify.js')).defineVerify],
  [['order'], async () => (await import('./commands/order.js')).defineOrder],
  [['status'], async () => (await import('./commands/status.js')).defineStatus],
  [['wait'], async () => (await import('./commands/wait.js')).defineWait],
  [['cancel'], async () => (await import('./commands/cancel.js')).defineCancel],
  [['retry'], async () => (await import('./commands/retry.js')).defineRetry],
  [['batch'], async () => (await import('./commands/batch.js')).defineBatch],
  [['services'], async () => (await import('./commands/services.js')).defineServices],
  [['prices'], async () => (await import('./commands/prices.js')).definePrices],
  [['availability'], async () => (await import('./commands/availability.js')).defineAvailability],
  [['orders'], async () => (await import('./commands/orders.js')).defineOrders],
  [['account'], async () => (await import('./commands/account.js')).defineAccount],
  [['usage'], async () => (await import('./commands/usage.js')).defineUsage],
  [['agent'], async () => (await import('./commands/agent.js')).defineAgent],
  [['register', 'login', 'logout'], async () => (await import('./commands/auth.js')).defineAuth],
  [['health'], async () => (await import('./commands/health.js')).defineHealth],
  [['webhook'], async () => (await import('./commands/webhook.js')).defineWebhook],
  [['listen'], async () => (await import('./commands/listen.js')).defineListen],
  [['config'], async () => (await import('./commands/config.js')).defineConfig],
  [['serve'], async () => (await import('./commands/serve.js')).defineServe],
  [['ui'], async () => (await import('./commands/ui.js')).defineUi],
  [['deposit'], async () => (await import('./commands/deposit.js')).defineDeposit],
  [['mcp'], async () => (await import('./commands/mcp.js')).defineMcp],
  [['admin'], async () => (await import('./commands/admin.js')).defineAdmin],
  [['completion'], async () => (await import('./commands/completion.js')).defineCompletion],
  [['__complete'], async () => (await import('./commands/complete.js')).defineComplete],
  [['help'], async () => (await import('./commands/help.js')).defineHelp],
  [['version'], async () => (await import('./commands/version.js')).defineVersion],
];

/** Commands that walk the whole tree (help topics, completion scripts and values): all are loaded for them. */
const WALKERS = new Set(['help', 'completion', '__complete']);

/** Global options that take a value: the word after them is not the command. */
const GLOBAL_VALUE_OPTIONS = new Set(['--endpoint']);

/** The command these arguments run, when it is a known one; otherwise undefined (help, a typo, nothing). */
function commandOf(argv: readonly string[]): (typeof COMMANDS)[number] | undefined {
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (GLOBAL_VALUE_OPTIONS.has(arg)) i++;
    else if (arg === '--help' || arg === '-h') return undefined;
    else if (!arg.startsWith('-')) return WALKERS.has(arg) ? undefined : COMMANDS.find(([names]) => names.includes(arg));
  }
  return undefined;
}

/**
 * Builds the program; `main` runs it. With `only`, just that command is defined (the rest are not
 * even loaded); without, every command, for help, suggestions and completion to walk.
 */
export async function buildProgram(io: IO, ctx: CommandContext, only?: (typeof COMMANDS)[number]): Promise<Command> {
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
  const defines = await Promise.all((only ? [only] : COMMANDS).map(([, load]) => load()));
  for (const define of defines) define(program, ctx);
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
  // Plain `tn` on a terminal opens the app; piped or in CI it prints help, as scripts expect.
  const interactive = io.stdinIsTTY && io.stdoutIsTTY && !io.env.CI;
  const args = argv.length === 0 ? ['ui'] : argv;
  const program = await buildProgram(io, ctx, argv.length === 0 && !interactive ? undefined : commandOf(args));
  program.hook('preAction', (_root, action) => {
    const opts = action.optsWithGlobals<{ endpoint?: string; json?: boolean; color?: boolean; quiet?: boolean }>();
    io.color = io.color && opts.color !== false;
    io.quiet = opts.quiet === true;
    factory = new Factory(io, { endpoint: opts.endpoint, json: opts.json === true, color: io.color, quiet: io.quiet });
  });

  if (argv.length > 0 && argv.every((a) => a === '--json')) {
    // `--json` promises one JSON document: without a command, that is a usage error.
    printJson(io, { error: new TnError('invalid_request', 'No command given: see `tn --help`.').toBody() });
    return EXIT.usage;
  }
  if (argv.length === 0 && !interactive) {
    program.outputHelp();
    return EXIT.ok;
  }
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (err) {
    return reportError(err, io, json, { databaseFile: factory?.databaseFile });
  } finally {
    await factory?.close().catch(() => undefined);
  }
}

/** The one place where a failure becomes output and an exit code. */
export function reportError(err: unknown, io: IO, json: boolean, context: ErrorContext = {}): number {
  const code = errorOutput(systemErrorToTnError(err, context) ?? err, io, json);
  // Even with --json or -q: an order the command let go of must not be lost from sight.
  const next = attachedHint(err);
  if (next) io.stderr.write(`${next}\n`);
  return code;
}

function errorOutput(err: unknown, io: IO, json: boolean): number {
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
