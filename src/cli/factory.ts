import type { Broker } from '../core/broker.js';
import { TnError } from '../core/errors.js';
import type { BrokerCore } from '../core/broker-core.js';
import type { Config } from './config.js';
import type { IO } from './io.js';

export interface GlobalOptions {
  endpoint?: string;
  json: boolean;
  color: boolean;
  quiet: boolean;
}

/**
 * Hands commands what they need, each built on first use: a command that never touches the broker
 * never loads SQLite, and tests can replace any piece.
 */
export class Factory {
  private configInstance?: Config;
  private brokerInstance?: Promise<Broker>;
  private cores: BrokerCore[] = [];
  /** The database file last opened, so that an error SQLite reports without a path can name it. */
  databaseFile?: string;

  constructor(
    readonly io: IO,
    readonly globals: GlobalOptions,
  ) {}

  async config(): Promise<Config> {
    if (!this.configInstance) {
      const { Config } = await import('./config.js');
      this.configInstance = Config.open(this.io.env);
    }
    return this.configInstance;
  }

  /** `--endpoint`, then TN_ENDPOINT, then the config file, then `local`. */
  async endpoint(): Promise<string> {
    const chosen = this.globals.endpoint ?? this.io.env.TN_ENDPOINT ?? (await this.config()).endpoint ?? 'local';
    if (chosen !== 'local' && !/^https?:\/\//.test(chosen)) {
      throw new TnError('invalid_request', `Endpoint "${chosen}" is neither \`local\` nor an http(s) URL.`);
    }
    return chosen.replace(/\/+$/, '');
  }

  broker(): Promise<Broker> {
    this.brokerInstance ??= this.openBroker();
    return this.brokerInstance;
  }

  /**
   * The core on a database file directly, for `tn admin`: the embedded broker's file unless `--db`
   * names another. A named file must exist (a typo must not start an empty broker) unless `create`.
   */
  async core(dbFile?: string, options: { create?: boolean } = {}): Promise<BrokerCore> {
    const [{ openCore }, database] = await Promise.all([import('../compose.js'), this.database(dbFile, options)]);
    const core = await openCore(database, { simulator: simulatorSettings(this.io.env) });
    this.cores.push(core);
    return core;
  }

  /**
   * `core` for `tn admin`: without `--db`, a terminal is told which file it is working on, since it
   * changes money there (scripts keep their stderr to the command's own lines).
   */
  async adminCore(dbFile?: string, options: { create?: boolean } = {}): Promise<BrokerCore> {
    const core = await this.core(dbFile, options);
    this.nameDefaultDatabase(dbFile);
    return core;
  }

  /** The database `tn admin` works on, without opening it (`tn admin backup`), named on a terminal as `adminCore` does. */
  async adminDatabase(dbFile?: string): Promise<string> {
    const database = await this.database(dbFile);
    this.nameDefaultDatabase(dbFile);
    return database;
  }

  /** `--db`, then TN_DB_URL, then the embedded broker's file; a named file must exist unless `create`. */
  private async database(dbFile: string | undefined, options: { create?: boolean } = {}): Promise<string> {
    const [{ isPostgresUrl }, { localDatabase }] = await Promise.all([import('../compose.js'), import('./paths.js')]);
    const chosen = dbFile ?? this.io.env.TN_DB_URL ?? undefined;
    if (chosen !== undefined && !isPostgresUrl(chosen) && !options.create) {
      const { existsSync } = await import('node:fs');
      if (!existsSync(chosen)) throw new TnError('not_found', `Database file ${chosen} not found.`);
    }
    this.databaseFile = chosen ?? localDatabase(this.io.env);
    return this.databaseFile;
  }

  private nameDefaultDatabase(dbFile: string | undefined): void {
    if (dbFile === undefined && this.io.stderrIsTTY) this.io.err(`tn admin: using the embedded broker's database ${this.databaseFile} (--db names another).`);
  }

  async close(): Promise<void> {
    const broker = this.brokerInstance && (await this.brokerInstance.catch(() => undefined));
    await broker?.close();
    await Promise.all(this.cores.map((c) => c.close()));
  }

  private async openBroker(): Promise<Broker> {
    const endpoint = await this.endpoint();
    if (endpoint !== 'local') {
      const [{ RemoteBroker }, { FileCache }, { dataDir }, { join }, { undiciTransport }] = await Promise.all([
        import('../client/remote.js'),
        import('./cache.js'),
        import('./paths.js'),
        import('node:path'),
        import('./undici-transport.js'),
      ]);
      return new RemoteBroker({
        endpoint,
        transport: undiciTransport(),
        apiKey: this.io.env.TN_API_KEY || (await this.config()).apiKeyFor(endpoint),
        cache: new FileCache(join(dataDir(this.io.env), 'cache')),
      });
    }
    const { EmbeddedBroker } = await import('../client/embedded.js');
    const core = await this.core();
    const envKey = this.io.env.TN_API_KEY;
    if (envKey) return EmbeddedBroker.open(core, envKey);
    const config = await this.config();
    const stored = config.apiKeyFor('local');
    // The database decides the sandbox once; every process, first or not, keeps the key it names.
    const { apiKey, created } = await core.sandboxKey(stored);
    if (apiKey !== stored) await config.setApiKey('local', apiKey);
    if (created) this.io.err('Created a local sandbox account with $10.00 of test credit.');
    return EmbeddedBroker.open(core, apiKey);
  }
}

export function simulatorSettings(env: NodeJS.ProcessEnv): { delayMs?: number; noSmsRate?: number } {
  const settings: { delayMs?: number; noSmsRate?: number } = {};
  if (env.TN_SIM_DELAY_MS !== undefined && env.TN_SIM_DELAY_MS !== '') {
    const delay = Number(env.TN_SIM_DELAY_MS);
    if (!Number.isInteger(delay) || delay < 0 || delay > 3_600_000) {
      throw new TnError('invalid_request', 'TN_SIM_DELAY_MS must be a whole number of milliseconds from 0 to 3600000.');
    }
    settings.delayMs = delay;
  }
  if (env.TN_SIM_NO_SMS_RATE !== undefined && env.TN_SIM_NO_SMS_RATE !== '') {
    const rate = Number(env.TN_SIM_NO_SMS_RATE);
    if (!(rate >= 0 && rate <= 1)) throw new TnError('invalid_request', 'TN_SIM_NO_SMS_RATE must be a number from 0 to 1.');
    settings.noSmsRate = rate;
  }
  return settings;
}
