import { parseAgentQuery } from '../../core/agent/parse.js';
import { EXIT, aboveLimit, exitCodeFor } from '../../core/errors.js';
import { MICROS_PER_USD, fromUsd } from '../../core/money.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { orderLine, printJson } from '../output.js';
import { MAX_PRICE_OPTION } from '../max-price.js';
import { confirm } from '../prompt.js';
import { buildQuote, printQuote, quoteSentence } from '../quote.js';

export interface AgentOptions {
  query: string;
  /** Skip the question on a terminal. */
  yes?: boolean;
  dryRun?: boolean;
  /** USD, as `--max-price` gives it: refuse before anything is ordered when a number costs more. */
  maxPrice?: number;
}

export const defineAgent: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('agent')
    .description('Ask in plain English; it never spends money on a guess, and on a terminal asks before spending')
    .argument('<query...>', 'what you need, e.g. "3 telegram numbers from the UK under $0.50"')
    .option('-y, --yes', 'on a terminal, order without asking first')
    .option('--dry-run', 'print what it understood and the quote, and order nothing')
    .option(...MAX_PRICE_OPTION)
    .action(async (words: string[], opts: { yes?: boolean; dryRun?: boolean; maxPrice?: number }) =>
      ctx.exit(await runAgent({ query: words.join(' '), ...opts }, ctx.factory())),
    );
  examples(cmd, [
    'tn agent "I need a US verification number for WhatsApp"',
    'tn agent "3 telegram numbers from the UK under \\$0.50"',
    'tn agent "20 telegram numbers" --dry-run',
    'tn agent "how much is instagram in germany?"',
    "tn agent \"what's my balance\" --json",
  ]);
};

export async function runAgent(opts: AgentOptions, f: Factory): Promise<number> {
  const broker = await f.broker();
  // The same parser the broker runs: what it understood is known, and quoted, before anything is spent.
  const parsed = parseAgentQuery(opts.query);
  const spends = parsed.understood && (parsed.intent === 'order' || parsed.intent === 'verify') && parsed.interpretation.platform !== undefined;
  if (spends) {
    const { platform, country, quantity } = parsed.interpretation;
    const interactive = f.io.stdinIsTTY && f.io.stderrIsTTY && !f.globals.json;
    const needQuote = opts.dryRun || opts.maxPrice !== undefined || (interactive && !opts.yes);
    if (needQuote) {
      const quote = await buildQuote(broker, [{ platform: platform!, country, quantity }]);
      if (opts.dryRun) {
        if (!f.globals.json) f.io.err(`Understood: ${parsed.intent} ${quoteSentence(quote)}.`);
        await printQuote(f.io, quote, f.globals.json);
        return EXIT.ok;
      }
      const unit = Math.max(...quote.items.map((i) => Math.round(i.price * MICROS_PER_USD)));
      if (opts.maxPrice !== undefined && unit > fromUsd(opts.maxPrice)) throw aboveLimit(unit, fromUsd(opts.maxPrice));
      if (interactive && !opts.yes) {
        const what = parsed.intent === 'verify' ? 'Order and wait for the code' : 'Order';
        if (!(await confirm(f.io, `Understood: ${quoteSentence(quote)}. ${what}?`))) {
          f.io.err('Nothing was ordered.');
          return EXIT.ok;
        }
      }
    }
  } else if (opts.dryRun) {
    // Nothing to spend: the answer itself is free (prices, balance, stock), or a question back.
    f.io.err('Dry run: this query orders nothing.');
  }
  const answer = await broker.agent(opts.query);
  if (f.globals.json) printJson(f.io, answer);
  else if (!answer.understood) {
    f.io.err(`${answer.message}${answer.suggestions?.length ? `\nTry: ${answer.suggestions.map((s) => `"${s}"`).join(', ')}` : ''}`);
  } else if (answer.orders?.length) {
    // The orders are the data; the sentence about them is commentary.
    f.io.err(answer.message);
    for (const order of answer.orders) f.io.out(orderLine(order));
  } else if (answer.errors?.length) f.io.err(answer.message);
  else f.io.out(answer.message);
  if (!answer.understood) return EXIT.usage;
  if (answer.orders?.length === 0 && answer.errors?.length) return exitCodeFor(answer.errors[0]!.code);
  return EXIT.ok;
}
