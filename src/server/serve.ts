import { openCore, type DepositConfig } from '../compose.js';
import type { DeliveryGuard } from '../core/catalogue/delivery-guard.js';
import type { SuccessFloor } from '../core/sources/registry.js';
import type { SimulatorOptions } from '../providers/simulator.js';
import { buildApp, type RateLimits, type ServerTimeouts } from './app.js';

export interface StartOptions {
  host: string;
  port: number;
  db: string;
  version: string;
  simulator?: SimulatorOptions;
  rateLimits?: RateLimits;
  trustProxy?: boolean;
  /** JSON request logs on stdout. */
  log?: boolean;
  allowPrivateWebhooks?: boolean;
  webhookSchedule?: readonly number[];
  deliveryGuard?: DeliveryGuard | false;
  publicUrl?: string;
  successFloor?: SuccessFloor;
  timeouts?: Partial<ServerTimeouts>;
  deposits?: DepositConfig;
  /** `GET /metrics` (Prometheus text) on the same port. */
  metrics?: boolean;
}

export interface RunningServer {
  url: string;
  port: number;
  /** Stops accepting, answers long polls with their current state, lets requests finish, closes the database. */
  stop(): Promise<void>;
}

/** `tn serve`: the app on a database file, listening, with a graceful stop. */
export async function startServer(options: StartOptions): Promise<RunningServer> {
  const core = await openCore(options.db, {
    simulator: options.simulator,
    deliveryGuard: options.deliveryGuard,
    successFloor: options.successFloor,
    deposits: options.deposits,
  });
  try {
    // A wrong account key stops the start, before any address is made from it.
    await core.depositsReady();
  } catch (err) {
    await core.close();
    throw err;
  }
  const release = new AbortController();
  const app = await buildApp({
    core,
    version: options.version,
    rateLimits: options.rateLimits,
    trustProxy: options.trustProxy,
    release: release.signal,
    logger: options.log ? true : false,
    webhooks: { allowPrivate: options.allowPrivateWebhooks, schedule: options.webhookSchedule },
    publicUrl: options.publicUrl,
    timeouts: options.timeouts,
    metrics: options.metrics,
  });
  try {
    await app.listen({ host: options.host, port: options.port });
  } catch (err) {
    await app.close();
    await core.close();
    throw err;
  }
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : options.port;
  const host = options.host.includes(':') ? `[${options.host}]` : options.host;
  return {
    url: `http://${host}:${port}`,
    port,
    async stop() {
      release.abort();
      await app.close();
      await core.close();
    },
  };
}

