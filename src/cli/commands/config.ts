import { EXIT, TnError } from '../../core/errors.js';
import { secretHint } from '../../core/ids.js';
import { examples, type DefineCommand } from '../command.js';
import type { Factory } from '../factory.js';
import { printJson } from '../output.js';

export const defineConfig: DefineCommand = (program, ctx) => {
  const config = program.command('config').description('Read and change settings (endpoint, api_key, country, timeout)');
  config
    .command('list')
    .description('Show every setting (API keys as hints)')
    .action(async () => ctx.exit(await runConfigList(ctx.factory())));
  config
    .command('get')
    .description('Print one setting')
    .argument('<key>', 'endpoint, api_key, country or timeout')
    .action(async (key: string) => ctx.exit(await runConfigGet(key, ctx.factory())));
  config
    .command('set')
    .description('Change one setting')
    .argument('<key>', 'endpoint, api_key, country or timeout')
    .argument('<value>')
    .action(async (key: string, value: string) => ctx.exit(await runConfigSet(key, value, ctx.factory())));
  config
    .command('unset')
    .description('Remove one setting')
    .argument('<key>')
    .action(async (key: string) => ctx.exit(await runConfigSet(key, undefined, ctx.factory())));
  config
    .command('path')
    .description('Print where the config file is')
    .action(async () => ctx.exit(await runConfigPath(ctx.factory())));
  examples(config, ['tn config list', 'tn config set country gb', 'tn config set timeout 60', 'tn config get endpoint', 'tn config path']);
};

async function settings(f: Factory, reveal: boolean): Promise<Record<string, string | number | null>> {
  const [config, endpoint] = [await f.config(), await f.endpoint()];
  const key = f.io.env.TN_API_KEY || config.apiKeyFor(endpoint);
  return {
    endpoint,
    api_key: key ? (reveal ? key : secretHint(key)) : null,
    country: config.get('country') ?? null,
    timeout: config.get('timeout') ?? null,
  };
}

export async function runConfigList(f: Factory): Promise<number> {
  const values = await settings(f, false);
  if (f.globals.json) printJson(f.io, values);
  else for (const [k, v] of Object.entries(values)) f.io.out(`${k}\t${v ?? ''}`);
  return EXIT.ok;
}

export async function runConfigGet(key: string, f: Factory): Promise<number> {
  const { isConfigKey } = await import('../config.js');
  if (!isConfigKey(key)) throw unknownKey(key);
  const value = (await settings(f, true))[key] ?? null;
  if (f.globals.json) printJson(f.io, { [key]: value });
  else if (value !== null) f.io.out(String(value));
  else f.io.err(`${key} is not set.`);
  return value === null && !f.globals.json ? EXIT.notFound : EXIT.ok;
}

export async function runConfigSet(key: string, raw: string | undefined, f: Factory): Promise<number> {
  const { isConfigKey, parseConfigValue } = await import('../config.js');
  if (!isConfigKey(key)) throw unknownKey(key);
  const config = await f.config();
  const value = raw === undefined ? undefined : parseConfigValue(key, raw);
  if (key === 'api_key') await config.setApiKey(await f.endpoint(), value === undefined ? undefined : String(value));
  else await config.set(key, value);
  if (f.globals.json) printJson(f.io, { [key]: key === 'api_key' && value ? secretHint(String(value)) : (value ?? null) });
  return EXIT.ok;
}

export async function runConfigPath(f: Factory): Promise<number> {
  const path = (await f.config()).path;
  if (f.globals.json) printJson(f.io, { path });
  else f.io.out(path);
  return EXIT.ok;
}

const unknownKey = (key: string): TnError =>
  new TnError('invalid_request', `Unknown setting "${key}": the settings are endpoint, api_key, country and timeout.`);

