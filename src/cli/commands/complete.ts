import { EXIT } from '../../core/errors.js';
import type { DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';

export const COMPLETE_KINDS = ['platforms', 'countries', 'orders', 'config-keys'] as const;
type Kind = (typeof COMPLETE_KINDS)[number];

/**
 * `tn __complete <kind> [platform]`: the values the shell completion scripts offer, one a line.
 * Hidden, quiet and never failing: a completion that errors or creates an account would be worse
 * than none.
 */
export const defineComplete: DefineCommand = (program, ctx) => {
  program
    .command('__complete', { hidden: true })
    .argument('<kind>')
    .argument('[platform]')
    .action(async (kind: string, platform: string | undefined) => {
      const f = ctx.factory();
      const values = (COMPLETE_KINDS as readonly string[]).includes(kind) ? await completionValues(kind as Kind, platform, f).catch(() => []) : [];
      if (values.length) f.io.out(values.join('\n'));
      ctx.exit(EXIT.ok);
    });
};

async function completionValues(kind: Kind, platform: string | undefined, f: Factory): Promise<string[]> {
  switch (kind) {
    case 'platforms':
      return (await import('../../core/catalogue/catalog.js')).PLATFORMS.map((p) => p.id);
    case 'config-keys':
      return Object.keys((await import('../config.js')).CONFIG_KEYS);
    case 'countries': {
      const all = async (): Promise<string[]> => ['any', ...(await import('../../core/catalogue/countries.js')).COUNTRIES.map((c) => c.code.toLowerCase())];
      if (!platform || !(await hasKey(f))) return all();
      const list = await (await f.broker()).prices({ by: 'country', platform });
      return ['any', ...list.items.filter((i) => i.stock > 0).map((i) => i.country)];
    }
    case 'orders': {
      if (!(await hasKey(f))) return [];
      const page = await (await f.broker()).orders({ status: 'active', limit: 100 });
      return page.orders.map((o) => o.order_id);
    }
  }
}

/** Only with a key already there: completing must never register a sandbox account as a side effect. */
async function hasKey(f: Factory): Promise<boolean> {
  if (f.io.env.TN_API_KEY) return true;
  return (await f.config()).apiKeyFor(await f.endpoint()) !== undefined;
}
