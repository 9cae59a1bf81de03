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
  DepositList,
} from '../core/broker.js';
import type { BrokerCore } from '../core/broker-core.js';
import type { Order } from '../core/orders/order.js';
import { openCoreOnFile, type CoreFileOptions } from '../compose.js';

export { openCoreOnFile, type CoreFileOptions } from '../compose.js';
export { SANDBOX_CREDIT } from '../core/accounts/accounts.js';

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

  deposits(): Promise<DepositList> {
    return this.core.listDeposits(this.accountId);
  }

  checkDeposits(): Promise<DepositList> {
    return this.core.checkDeposits(this.accountId);
  }

  close(): Promise<void> {
    return this.core.close();
  }
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
    const apiKey = options.apiKey ?? (await core.sandboxKey(undefined)).apiKey;
    return { broker: await EmbeddedBroker.open(core, apiKey), apiKey };
  } catch (err) {
    await core.close();
    throw err;
  }
}
