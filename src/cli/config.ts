import { chmodSync, existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findCountry } from '../core/catalogue/countries.js';
import { TnError } from '../core/errors.js';
import { VERIFY_TIMEOUT } from '../core/limits.js';
import { configDir } from './paths.js';

interface ConfigShape {
  endpoint?: string;
  /** API keys by endpoint (`local` or a URL), so switching endpoints keeps each login. */
  credentials?: Record<string, string>;
  country?: string;
  timeout?: number;
}

/** Settings `tn config` can read and write, with how each is checked. */
export const CONFIG_KEYS = {
  endpoint: 'where orders go: `local` (the embedded broker) or a broker URL',
  api_key: 'the API key for the current endpoint (TN_API_KEY overrides it)',
  country: 'default country for orders (ISO code, or `any`)',
  timeout: `default seconds \`tn verify\` waits for a code (${VERIFY_TIMEOUT.min}–${VERIFY_TIMEOUT.max})`,
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;

export const isConfigKey = (key: string): key is ConfigKey => Object.hasOwn(CONFIG_KEYS, key);

/**
 * The config file (mode 0600, re-applied on every write since it holds API keys). Reading it is
 * on every command's path, so it is read as the JSON it is; conf, with its schema machinery, is
 * loaded only to write it (atomically).
 */
export class Config {
  readonly path: string;
  private data: ConfigShape;

  constructor(private readonly dir: string) {
    this.path = join(dir, 'config.json');
    this.data = readConfig(this.path);
  }

  static open(env: NodeJS.ProcessEnv): Config {
    return new Config(configDir(env));
  }

  get endpoint(): string | undefined {
    return this.data.endpoint;
  }

  apiKeyFor(endpoint: string): string | undefined {
    return this.data.credentials?.[endpoint];
  }

  async setApiKey(endpoint: string, key: string | undefined): Promise<void> {
    await this.write((conf) => {
      const credentials = { ...conf.get('credentials') };
      if (key === undefined) delete credentials[endpoint];
      else credentials[endpoint] = key;
      conf.set('credentials', credentials);
    });
  }

  get(key: Exclude<ConfigKey, 'api_key'>): string | number | undefined {
    return this.data[key];
  }

  async set(key: Exclude<ConfigKey, 'api_key'>, value: string | number | undefined): Promise<void> {
    await this.write((conf) => {
      if (value === undefined) conf.delete(key);
      else conf.set(key, value);
    });
  }

  private async write(change: (conf: import('conf').default<ConfigShape>) => void): Promise<void> {
    const { default: Conf } = await import('conf');
    const conf = new Conf<ConfigShape>({ cwd: this.dir, configName: 'config', configFileMode: 0o600, projectSuffix: '' });
    change(conf);
    this.data = { ...conf.store };
    if (existsSync(this.path)) chmodSync(this.path, 0o600);
  }
}

/** The file as JSON; none yet (a fresh install) is no settings. A file that is not JSON is an error, never silently dropped. */
function readConfig(path: string): ConfigShape {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw err;
  }
  if (text.trim() === '') return {};
  try {
    const value = JSON.parse(text) as unknown;
    if (value && typeof value === 'object' && !Array.isArray(value)) return value as ConfigShape;
  } catch {
    // Reported below.
  }
  throw new TnError('invalid_request', `The config file ${path} is not valid JSON: fix it, or remove it to start afresh.`);
}

export function parseConfigValue(key: ConfigKey, value: string): string | number {
  if (key === 'timeout') {
    const n = Number(value);
    if (!Number.isInteger(n) || n < VERIFY_TIMEOUT.min || n > VERIFY_TIMEOUT.max) {
      throw new TnError('invalid_request', `timeout must be a whole number of seconds from ${VERIFY_TIMEOUT.min} to ${VERIFY_TIMEOUT.max}.`);
    }
    return n;
  }
  if (key === 'country') {
    const code = value.toLowerCase() === 'any' ? 'any' : findCountry(value);
    if (!code) throw new TnError('invalid_request', `Unknown country "${value}": use an ISO code such as us or gb, or any.`);
    return code;
  }
  if (key === 'endpoint' && value !== 'local' && !/^https?:\/\/[^\s]+$/.test(value)) {
    throw new TnError('invalid_request', 'endpoint must be `local` or an http(s) URL.');
  }
  if (value === '') throw new TnError('invalid_request', `${key} cannot be empty: use \`tn config unset ${key}\`.`);
  return value;
}
