/**
 * The composition root: the core on a SQLite file with the real providers (the simulator, the
 * TempNumber client, the gateway parsers, each loaded when first needed). The CLI, the server and
 * the library build their broker here, and nowhere else.
 */
import { BrokerCore } from './core/broker-core.js';
import type { DeliveryGuard } from './core/catalogue/delivery-guard.js';
import type { Clock } from './core/clock.js';
import type { Database } from './core/database.js';
import type { SuccessFloor } from './core/sources/registry.js';
import { Simulator, type SimulatorOptions } from './providers/simulator.js';
import { createUpstream } from './providers/upstreams.js';
import { openSqlite } from './store/sqlite/engine.js';

export interface CoreFileOptions {
  simulator?: SimulatorOptions;
  /** Rest after use of a pool number, per platform. */
  poolCooldownMs?: number;
  successFloor?: SuccessFloor;
  clock?: Clock;
  orderTtlMs?: number;
  deliveryGuard?: DeliveryGuard | false;
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
  });
}
