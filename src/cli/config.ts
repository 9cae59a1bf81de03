import { chmodSync, existsSync } from 'node:fs';
import Conf from 'conf';
import { findCountry } from '../core/catalogue/countries.js';
import { TnError } from '../core/errors.js';
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
  timeout: 'default seconds `tn verify` waits for a code (30–300)',
} as const;
export type ConfigKey = keyof typeof CONFIG_KEYS;

export const isConfigKey = (key: string): key is ConfigKey => Object.hasOwn(CONFIG_KEYS, key);

/** The config file (mode 0600, re-applied on every write since it holds API keys). */
export class Config {
  private readonly conf: Conf<ConfigShape>;

  constructor(dir: string) {
    this.conf = new Conf<ConfigShape>({ cwd: dir, configName: 'config', configFileMode: 0o600, projectSuffix: '' });
    this.secure();
  }

  static open(env: NodeJS.ProcessEnv): Config {
    return new Config(configDir(env));
  }

  get path(): string {
    return this.conf.path;
  }

  get endpoint(): string | undefined {
    return this.conf.get('endpoint');
  }

  apiKeyFor(endpoint: string): string | undefined {
    return this.conf.get('credentials')?.[endpoint];
  }

  setApiKey(endpoint: string, key: string | undefined): void {
    const credentials = { ...this.conf.get('credentials') };
    if (key === undefined) delete credentials[endpoint];
    else credentials[endpoint] = key;
    this.conf.set('credentials', credentials);
    this.secure();
  }

  get(key: Exclude<ConfigKey, 'api_key'>): string | number | undefined {
    return this.conf.get(key);
  }

  set(key: Exclude<ConfigKey, 'api_key'>, value: string | number | undefined): void {
    if (value === undefined) this.conf.delete(key);
    else this.conf.set(key, value);
    this.secure();
  }

  private secure(): void {
    if (existsSync(this.conf.path)) chmodSync(this.conf.path, 0o600);
  }
}

export function parseConfigValue(key: ConfigKey, value: string): string | number {
  if (key === 'timeout') {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 30 || n > 300) throw new TnError('invalid_request', 'timeout must be a whole number of seconds from 30 to 300.');
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
