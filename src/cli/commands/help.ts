import { EXIT, EXIT_CODE_HELP, TnError } from '../../core/errors.js';
import type { DefineCommand } from '../command.js';

export const HELP_TOPICS: Record<string, () => string> = {
  'exit-codes': () =>
    ['tn exits with one of these codes:', '', ...EXIT_CODE_HELP.map(([code, text]) => `  ${String(code).padEnd(3)} ${text}`), '  130 interrupted (Ctrl-C); a `verify` in progress is cancelled and refunded',
      '  143 stopped by SIGTERM (timeout, docker stop); a `verify` in progress is cancelled and refunded',
      '  129 stopped by SIGHUP or a closed terminal; the same',
    ].join('\n'),
  environment: () =>
    [
      'Environment variables:',
      '',
      '  TN_ENDPOINT         `local` (the embedded broker, the default) or a broker URL',
      '  TN_API_KEY          API key; overrides the one in the config file',
      '  TN_CONFIG_DIR       where the config file lives (default: the platform config directory)',
      '  TN_DATA_DIR         where the embedded broker keeps its database (default: the platform data directory)',
      '  TN_DB_URL           the database of `tn serve` and `tn admin` when --db is not given: a file or postgres://…',
      '  TN_SIM_DELAY_MS     embedded simulator: milliseconds before each SMS (default: random 1000–4000)',
      '  TN_SIM_NO_SMS_RATE  embedded simulator: share of orders that never get an SMS, 0–1 (default 0)',
      '  NO_COLOR            no colour in output',
      '  FORCE_COLOR         colour even when not on a terminal (0 turns it off); --no-color wins',
      '  TN_DEBUG            on an unexpected error, print its stack trace',
    ].join('\n'),
};

export const defineHelp: DefineCommand = (program, ctx) => {
  program
    .command('help')
    .description('Show help for a command, or a topic: exit-codes, environment')
    .argument('[topic...]', 'a command (e.g. verify, "config set") or a topic')
    .action((words: string[]) => {
      const io = ctx.factory().io;
      const [first] = words;
      if (first && first in HELP_TOPICS && words.length === 1) {
        io.out(HELP_TOPICS[first]!());
        return ctx.exit(EXIT.ok);
      }
      let command = program;
      for (const word of words) {
        const sub = command.commands.find((c) => c.name() === word || c.aliases().includes(word));
        if (!sub) throw new TnError('invalid_request', `No command or help topic "${words.join(' ')}". Topics: ${Object.keys(HELP_TOPICS).join(', ')}.`);
        command = sub;
      }
      command.outputHelp();
      ctx.exit(EXIT.ok);
    });
};
