import { EXIT, exitCodeFor } from '../../core/errors.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { orderLine, printJson } from '../output.js';

export const defineAgent: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('agent')
    .description('Ask in plain English; it never spends money on a guess')
    .argument('<query...>', 'what you need, e.g. "3 telegram numbers from the UK under $0.50"')
    .action(async (words: string[]) => ctx.exit(await runAgent({ query: words.join(' ') }, ctx.factory())));
  examples(cmd, [
    'tn agent "I need a US verification number for WhatsApp"',
    'tn agent "3 telegram numbers from the UK under \\$0.50"',
    'tn agent "how much is instagram in germany?"',
    "tn agent \"what's my balance\" --json",
  ]);
};

export async function runAgent(opts: { query: string }, f: Factory): Promise<number> {
  const answer = await (await f.broker()).agent(opts.query);
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
