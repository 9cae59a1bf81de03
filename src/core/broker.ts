import type { Order } from './orders/order.js';
import type { AgentIntent, AgentInterpretation } from './agent/vocabulary.js';
import type { ErrorBody } from './errors.js';

/**
 * What every way of reaching a broker offers: the embedded broker (the core in-process on SQLite)
 * and, later, a remote endpoint over HTTP. The shapes are those of the HTTP API, so the CLI prints
 * the same JSON whichever broker answered.
 */
export interface Broker {
  /** `local` or the base URL of a remote broker. */
  readonly endpoint: string;
  services(): Promise<ServicesList>;
  availability(): Promise<Availability>;
  account(): Promise<AccountInfo>;
  usage(days?: number): Promise<Usage>;
  order(request: OrderRequest): Promise<Order>;
  getOrder(orderId: string): Promise<Order>;
  cancel(orderId: string): Promise<Order>;
  retry(orderId: string): Promise<Order>;
  /** Resolves once the order leaves `active` or `timeoutMs` passes; the order is returned as it then is. */
  wait(orderId: string, options?: WaitOptions): Promise<Order>;
  /** Order, wait for the code; on timeout or abort the order is ended with a refund. */
  verify(request: VerifyRequest, options?: VerifyOptions): Promise<VerifiedOrder>;
  batch(items: OrderRequest[]): Promise<BatchResult>;
  agent(query: string): Promise<AgentAnswer>;
  /** Price list: every country for one platform (`by: 'country'`) or every platform in one country (`by: 'service'`). */
  prices(query: PriceQuery): Promise<PriceList>;
  /** The account's order history, newest first, one page at a time. */
  orders(query?: OrderQuery): Promise<OrderPage>;
  setWebhook(url: string, options?: { lowBalanceThreshold?: number }): Promise<{ url: string; secret: string }>;
  webhook(): Promise<WebhookInfo>;
  removeWebhook(): Promise<void>;
  testWebhook(): Promise<{ webhook_id: string; type: string }>;
  rotateWebhookSecret(): Promise<{ secret: string; previous_secret_expires_at: string }>;
  /** The account's crypto deposit addresses and deposits (issue 16); a broker without deposits refuses with `invalid_request`. */
  deposits(): Promise<DepositList>;
  /** The same after the broker looked at the account's addresses on the chain now. */
  checkDeposits(): Promise<DepositList>;
  close(): Promise<void>;
}

/** `GET /deposits`: the account's address per coin and what was paid to them. */
export interface DepositList {
  addresses: Record<string, string>;
  minimum_usd: number;
  /** Confirmations before a credit, per coin. */
  confirmations: Record<string, number>;
  deposits: DepositView[];
}

export interface DepositView {
  coin: 'btc' | 'ltc';
  address: string;
  txid: string;
  vout: number;
  /** In whole coins, exact (a decimal string with 8 places). */
  amount: string;
  amount_sats: number;
  confirmations: number;
  confirmations_required: number;
  status: 'pending' | 'credited' | 'below_minimum';
  /** What it was credited at (or found to be worth, below the minimum); null while pending. */
  usd: number | null;
  seen_at: string;
  credited_at: string | null;
}

export interface WebhookDeliveryLog {
  webhook_id: string;
  type: string;
  attempted_at: string;
  attempt: number;
  status_code: number | null;
  error: string | null;
  /** How long this attempt took, to the receiver's answer or the error. */
  duration_ms: number;
  /** This attempt's own outcome; `state` is the delivery's now. */
  outcome: 'delivered' | 'retry_scheduled' | 'failed';
  /** When this attempt scheduled the next one; null when it was the last. */
  next_attempt_at: string | null;
  state: 'pending' | 'delivered' | 'failed';
}

export interface WebhookInfo {
  url: string | null;
  secret: string;
  /** While a rotated-out secret still signs deliveries. */
  previous_secret_expires_at: string | null;
  /** Set when a receiver answered 410 Gone: nothing is delivered until the URL is set again. */
  disabled: { at: string; reason: string } | null;
  low_balance_threshold: number;
  recent_deliveries: WebhookDeliveryLog[];
}

export interface OrderRequest {
  platform: string;
  country?: string;
  idempotencyKey?: string;
  /** USD: refuse with `price_above_max`, charging nothing, if this account's price is higher. */
  maxPrice?: number;
}

export interface VerifyRequest extends OrderRequest {
  /** The whole verify, every attempt included: 30–300, default 120, or with attempts their sum up to 300 (API.md §5). */
  timeoutSeconds?: number;
  /** Numbers tried in turn when one gets no SMS (`VERIFY_ATTEMPTS`, default 1). */
  attempts?: number;
  /** How long each attempt waits for its SMS (`PER_ATTEMPT_SECONDS`, default 60). */
  perAttemptSeconds?: number;
}

/** One number tried by a verify with attempts: how it ended, and what came back. */
export interface VerifyAttempt {
  order_id: string;
  phone: string;
  price: number;
  /** `completed`; `no_sms` (its time ran out, cancelled and refunded); or the order's own end: `cancelled` (interrupted), `expired`, `failed`. */
  outcome: 'completed' | 'no_sms' | 'cancelled' | 'expired' | 'failed';
  /** USD given back for this number (0 when none). */
  refund: number;
}

/** What `verify` answers: the final order, and with `attempts` requested every number it tried. */
export type VerifiedOrder = Order & { attempts?: VerifyAttempt[] };

/** An attempt that got no SMS, told before the next number is ordered. */
export interface AttemptStep {
  attempt: VerifyAttempt;
  /** 1-based number of the attempt that just ended, and how many may be made. */
  index: number;
  of: number;
  waitedSeconds: number;
}

export interface WaitOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
}

export interface VerifyOptions {
  signal?: AbortSignal;
  /** Called once the number is assigned, before the code arrives: lets a UI show the phone while it waits. */
  onOrder?: (order: Order) => void;
  /** Called when an attempt got no SMS in time and another number is about to be ordered. */
  onAttempt?: (step: AttemptStep) => void;
}

export interface Registration {
  api_key: string;
  account_id: string;
  balance: number;
  tier: string;
  deposit_addresses: Record<string, string>;
  webhook_secret: string;
}

export interface ServiceItem {
  platform: string;
  name: string;
  price: number;
  your_price?: number;
}

export interface ServicesList {
  service: string;
  total_platforms: number;
  services: ServiceItem[];
}

export interface AvailabilityItem {
  platform: string;
  /** Share of ended orders of the last 7 days that received an SMS; null without history. */
  success_rate: number | null;
  stock: number;
  median_delivery_seconds: number | null;
}

export interface Availability {
  platforms: AvailabilityItem[];
}

export interface AccountStats {
  orders: number;
  completed: number;
  cancelled: number;
  expired: number;
  failed: number;
  spent: number;
}

export interface AccountInfo {
  account_id: string;
  balance: number;
  tier: string;
  discount_percent: number;
  completed_orders: number;
  next_tier: { tier: string; orders_needed: number } | null;
  stats: AccountStats;
  deposit_addresses: Record<string, string>;
  webhook: { url: string } | null;
  recent_orders: Order[];
  /** True on the embedded broker's sandbox account. */
  sandbox?: boolean;
  /** Where the delivery-rate guard currently refuses new orders. */
  delivery_guards?: DeliveryGuardState[];
}

export interface UsagePlatform {
  platform: string;
  orders: number;
  completed: number;
  spent: number;
  success_rate: number | null;
}

export interface UsageDay {
  date: string;
  orders: number;
  completed: number;
  spent: number;
}

export interface Usage {
  days: number;
  platforms: UsagePlatform[];
  daily: UsageDay[];
}

export type BatchItemResult = { ok: true; order: Order } | { ok: false; error: Pick<ErrorBody, 'code' | 'message'> };

export interface BatchResult {
  results: BatchItemResult[];
  total_price: number;
}

export interface AgentAnswer {
  understood: boolean;
  intent?: AgentIntent;
  interpretation?: AgentInterpretation;
  message: string;
  suggestions?: string[];
  orders?: Order[];
  errors?: Pick<ErrorBody, 'code' | 'message'>[];
  prices?: ServiceItem[];
  balance?: number;
  availability?: AvailabilityItem[];
}

export type PriceQuery = { by: 'country'; platform: string } | { by: 'service'; country: string };

export interface PriceItem {
  platform: string;
  country: string;
  price: number;
  your_price: number;
  stock: number;
}

export interface PriceList {
  by: 'country' | 'service';
  platform?: string;
  country?: string;
  items: PriceItem[];
}

export interface OrderQuery {
  status?: string;
  platform?: string;
  country?: string;
  /** ISO 8601 date or date-time. */
  since?: string;
  until?: string;
  page?: number;
  limit?: number;
}

export interface OrderPage {
  orders: Order[];
  page: number;
  limit: number;
  pages: number;
  total: number;
}

export interface DeliveryGuardState {
  platform: string;
  country: string;
  ended: number;
  delivered: number;
  lifts_at: string;
}
