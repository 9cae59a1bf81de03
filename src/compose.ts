/**
 * The composition root: the core on a SQLite file with the real providers (the simulator, the
 * TempNumber client, the gateway parsers, each loaded when first needed). The CLI, the server and
 * the library build their broker here, and nowhere else.
 */
import { BrokerCore } from './core/broker-core.js';
import type { DeliveryGuard } from './core/catalogue/delivery-guard.js';
import type { Clock } from './core/clock.js';
import type { Database } from './core/database.js';
import { FixedRates, type DepositSettings } from './core/deposits/deposits.js';
import { COINS, type ChainIndex, type Coin } from './core/deposits/port.js';
import { TnError } from './core/errors.js';
import { usdNumberToMicros } from './core/money.js';
import type { SuccessFloor } from './core/sources/registry.js';
import { Simulator, type SimulatorOptions } from './providers/simulator.js';
import { createUpstream } from './providers/upstreams.js';
import type { BackupResult } from './store/sqlite/backup.js';
import { openSqlite } from './store/sqlite/engine.js';

export interface CoreFileOptions {
  simulator?: SimulatorOptions;
  /** Rest after use of a pool number, per platform. */
  poolCooldownMs?: number;
  successFloor?: SuccessFloor;
  clock?: Clock;
  orderTtlMs?: number;
  deliveryGuard?: DeliveryGuard | false;
  deposits?: DepositConfig;
}

/** The deposits part of `tn serve --config` (issue 16), as the operator writes it. */
export interface DepositConfig {
  btc?: { xpub: string; esplora_url: string; confirmations?: number };
  ltc?: { xpub: string; esplora_url: string; confirmations?: number };
  usd_rates: Partial<Record<Coin, number>>;
  minimum_usd?: number;
  poll_seconds?: number;
}

/** Confirmations before a credit when the settings name none. */
const DEFAULT_CONFIRMATIONS: Record<Coin, number> = { btc: 1, ltc: 3 };

/** The settings as the core takes them: each coin's chain index an Esplora client. */
export function depositSettings(config: DepositConfig): DepositSettings {
  const coins: DepositSettings['coins'] = {};
  for (const coin of COINS) {
    const c = config[coin];
    if (c) coins[coin] = { xpub: c.xpub, confirmations: c.confirmations ?? DEFAULT_CONFIRMATIONS[coin], chain: lazyEsplora(c.esplora_url) };
  }
  return {
    coins,
    rates: new FixedRates(config.usd_rates),
    minimum: usdNumberToMicros(config.minimum_usd ?? 1) ?? 1_000_000,
    pollMs: config.poll_seconds === undefined ? undefined : Math.round(config.poll_seconds * 1000),
  };
}

/** The core on a SQLite file: the sources configured in it, or the simulator when it names none. */
export function openCoreOnFile(dbFile: string, options: CoreFileOptions = {}): BrokerCore {
  return coreOn(openSqlite(dbFile), options);
}

/**
 * The core on a SQLite file or, for a `postgres://` URL, on PostgreSQL (its driver loaded only
 * then): the one way `tn serve` and `tn admin` open a database.
 */
export async function openCore(db: string, options: CoreFileOptions = {}): Promise<BrokerCore> {
  if (!isPostgresUrl(db)) return openCoreOnFile(db, options);
  const { openPostgres } = await import('./store/postgres/engine.js');
  return coreOn(await openPostgres(db), options);
}

/** Whether a `--db` value names a PostgreSQL database rather than a file. */
export const isPostgresUrl = (db: string): boolean => /^postgres(ql)?:\/\//i.test(db);

/**
 * A consistent copy of a SQLite database, online (`tn admin backup`); PostgreSQL has its own tool.
 * The backup code is loaded only by this command.
 */
export async function backupDatabase(db: string, file: string, options: { force?: boolean } = {}): Promise<BackupResult> {
  if (isPostgresUrl(db)) {
    throw new TnError('invalid_request', 'This is a PostgreSQL database: back it up with pg_dump (e.g. `pg_dump --format=custom --file tn.dump <url>`); `tn admin backup` copies SQLite files.');
  }
  const { backupSqlite } = await import('./store/sqlite/backup.js');
  return backupSqlite(db, file, options);
}

/** The Esplora client, its HTTP library loaded at the first look at the chain. */
function lazyEsplora(url: string): ChainIndex {
  let client: Promise<ChainIndex> | undefined;
  const get = (): Promise<ChainIndex> => (client ??= import('./providers/esplora.js').then(({ Esplora }) => new Esplora(url)));
  return {
    tipHeight: async () => (await get()).tipHeight(),
    addressTxs: async (address) => (await get()).addressTxs(address),
  };
}

function coreOn(db: Database, options: CoreFileOptions): BrokerCore {
  return new BrokerCore({
    db,
    sources: [new Simulator(options.simulator)],
    upstreams: createUpstream,
    inboundParser: async () => (await import('./providers/inbound.js')).parseInbound,
    poolCooldownMs: options.poolCooldownMs,
    successFloor: options.successFloor,
    clock: options.clock,
    orderTtlMs: options.orderTtlMs,
    deliveryGuard: options.deliveryGuard,
    deposits: options.deposits ? depositSettings(options.deposits) : undefined,
  });
}
