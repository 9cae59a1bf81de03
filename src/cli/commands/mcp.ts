import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { maxPriceArgument } from '../max-price.js';
import type { McpOptions } from '../mcp-server.js';

/** Spending cap of one `tn mcp` process when none is given. */
export const DEFAULT_MAX_SPEND_USD = 2;

export const defineMcp: DefineCommand = (program, ctx) => {
  const cmd = program
    .command('mcp')
    .description('Run a Model Context Protocol server over stdio for AI agents, with a spending cap')
    .option('--max-spend <usd>', `most this server may spend in all, net of refunds (default $${DEFAULT_MAX_SPEND_USD.toFixed(2)})`, maxPriceArgument)
    .option('--max-price <usd>', 'most one number may cost', maxPriceArgument)
    .action(async (opts: { maxSpend?: number; maxPrice?: number }) =>
      ctx.exit(await runMcpCommand({ maxSpend: opts.maxSpend ?? DEFAULT_MAX_SPEND_USD, maxPrice: opts.maxPrice }, ctx.factory())),
    );
  examples(cmd, ['tn mcp', 'tn mcp --max-spend 5 --max-price 0.30', 'tn mcp --endpoint https://tn.example.com']);
};

/** The MCP SDK is loaded here and only here, so no other command pays for it. */
export async function runMcpCommand(opts: McpOptions, f: Factory): Promise<number> {
  const { runMcp } = await import('../mcp-server.js');
  return runMcp(opts, f);
}
