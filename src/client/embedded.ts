import type {
  AccountInfo,
  AgentAnswer,
  Availability,
  BatchResult,
  Broker,
  OrderRequest,
  ServicesList,
  Usage,
  VerifyOptions,
  VerifyRequest,
  WaitOptions,
  WebhookInfo,
  OrderPage,
  OrderQuery,
  PriceList,
  PriceQuery,
} from '../core/broker.js';
import type { Clock } from '../core/clock.js';
import { TnError } from '../core/errors.js';
import { cents } from '../core/money.js';
import type { Order } from '../core/orders/order.js';
import { BrokerCore, type DeliveryGuard } from '../core/service.js';
import { Simulator, type SimulatorOptions } from '../providers/simulator.js';
import { openSqliteStore } from '../store/sqlite.js';
import { createUpstream, TEMPNUMBER_LIMITS } from '../providers/upstreams.js';
import type { SuccessFloor } from '../core/sources.js';

/** The local sandbox account starts with $10.00 (API.md §7). */
export const SANDBOX_CREDIT = cents(1000);

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
    store: openSqliteStore(dbFile),
    sources: [new Simulator(options.simulator)],
    upstreams: createUpstream,
    upstreamLimits: TEMPNUMBER_LIMITS,
    poolCooldownMs: options.poolCooldownMs,
    successFloor: options.successFloor,
    clock: options.clock,
    orderTtlMs: options.orderTtlMs,
    deliveryGuard: options.deliveryGuard,
  });
}

/**
 * The embedded broker: the core in this process, acting for the account of one API key.
 * Closing it closes the core it was given.
 */
export class EmbeddedBroker implements Broker {
  readonly endpoint = 'local';

  constructor(
    readonly core: BrokerCore,
    readonly accountId: string,
  ) {}

  static async open(core: BrokerCore, apiKey: string): Promise<EmbeddedBroker> {
    return new EmbeddedBroker(core, await core.authenticate(apiKey));
  }

  services(): Promise<ServicesList> {
    return this.core.services(this.accountId);
  }

  availability(): Promise<Availability> {
    return this.core.availability();
  }

  account(): Promise<AccountInfo> {
    return this.core.account(this.accountId);
  }

  usage(days?: number): Promise<Usage> {
    return this.core.usage(this.accountId, days);
  }

  order(request: OrderRequest): Promise<Order> {
    return this.core.order(this.accountId, request);
  }

  getOrder(orderId: string): Promise<Order> {
    return this.core.getOrder(this.accountId, orderId);
  }

  cancel(orderId: string): Promise<Order> {
    return this.core.cancel(this.accountId, orderId);
  }

  retry(orderId: string): Promise<Order> {
    return this.core.retry(this.accountId, orderId);
  }

  wait(orderId: string, options: WaitOptions = {}): Promise<Order> {
    return this.core.wait(this.accountId, orderId, options);
  }

  verify(request: VerifyRequest, options: VerifyOptions = {}): Promise<Order> {
    return this.core.verify(this.accountId, request, options);
  }

  batch(items: OrderRequest[]): Promise<BatchResult> {
    return this.core.batch(this.accountId, items);
  }

  agent(query: string): Promise<AgentAnswer> {
    return this.core.agent(this.accountId, query);
  }

  prices(query: PriceQuery): Promise<PriceList> {
    return this.core.prices(this.accountId, query);
  }

  orders(query: OrderQuery = {}): Promise<OrderPage> {
    return this.core.orders(this.accountId, query);
  }

  setWebhook(url: string, options: { lowBalanceThreshold?: number } = {}): Promise<{ url: string; secret: string }> {
    return this.core.setWebhook(this.accountId, url, options.lowBalanceThreshold);
  }

  webhook(): Promise<WebhookInfo> {
    return this.core.webhook(this.accountId);
  }

  removeWebhook(): Promise<void> {
    return this.core.removeWebhook(this.accountId);
  }

  testWebhook(): Promise<{ webhook_id: string; type: string }> {
    return this.core.testWebhook(this.accountId);
  }

  rotateWebhookSecret(): Promise<{ secret: string; previous_secret_expires_at: string }> {
    return this.core.rotateWebhookSecret(this.accountId);
  }

  close(): Promise<void> {
    return this.core.close();
  }
}

/**
 * The key of the local sandbox account: the stored one while the database knows it; a new
 * account with the sandbox credit when no key is stored, or when the database has no account at
 * all (a fresh install, a wiped data directory). A stored key that an existing database does not
 * know is an error, not something to replace behind the user's back.
 */
export async function ensureSandboxKey(core: BrokerCore, storedKey: string | undefined): Promise<{ apiKey: string; created: boolean }> {
  if (storedKey) {
    try {
      await core.authenticate(storedKey);
      return { apiKey: storedKey, created: false };
    } catch (err) {
      if (!(err instanceof TnError && err.code === 'unauthorized')) throw err;
      if ((await core.store.countAccounts()) > 0) {
        throw new TnError(
          'unauthorized',
          'The API key in the config file is not an account of the local broker: `tn register` creates a new sandbox account, `tn config unset api_key` forgets the key.',
        );
      }
    }
  }
  const registration = await core.register({ credit: SANDBOX_CREDIT, sandbox: true, note: 'local sandbox credit' });
  return { apiKey: registration.api_key, created: true };
}

/**
 * For library users: the embedded broker on a database file, acting for `apiKey`, or for a new
 * sandbox account when no key is given (its key is then in `apiKey` of the result).
 */
export async function openEmbeddedBroker(
  dbFile: string,
  options: CoreFileOptions & { apiKey?: string } = {},
): Promise<{ broker: EmbeddedBroker; apiKey: string }> {
  const core = openCoreOnFile(dbFile, options);
  try {
    const apiKey = options.apiKey ?? (await ensureSandboxKey(core, undefined)).apiKey;
    return { broker: await EmbeddedBroker.open(core, apiKey), apiKey };
  } catch (err) {
    await core.close();
    throw err;
  }
}
