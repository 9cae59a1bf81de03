/**
 * The composition root: the core on a SQLite file with the real providers (the simulator, the
 * TempNumber client, the gateway parsers, each loaded when first needed). The CLI, the server and
 * the library build their broker here, and nowhere else.
 */
import { BrokerCore } from './core/broker-core.js';
import type { DeliveryGuard } from './core/catalogue/delivery-guard.js';
import type { Clock } from './core/clock.js';
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
  return new BrokerCore({
    db: openSqlite(dbFile),
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
