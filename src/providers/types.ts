import type { Micros } from '../core/money.js';

/**
 * Where numbers and SMS come from. The simulator is one; later, an operator's own phones, SIM
 * gateways and upstream providers. The broker asks a source for a number, records when its SMS is
 * due, and asks it to compose that SMS when the time comes (in whichever process is alive then).
 */
export interface NumberSource {
  readonly id: string;
  /** Countries (lower-case ISO 3166-1 alpha-2) where this source has numbers for the platform. */
  countries(platform: string): readonly string[];
  /** How many orders of a platform in a country it can serve at once. */
  capacity(platform: string, country: string): number;
  /** A free number in E.164 form, asking `isTaken` about candidates; null if every number is held. */
  pickPhone(platform: string, country: string, isTaken: (phone: string) => boolean): string | null;
  /** Milliseconds until the next SMS after an order or a retry; null when none will come. */
  planDelivery(kind: 'order' | 'retry'): number | null;
  /** The SMS that arrives for a scheduled delivery. */
  composeSms(platform: string): SimulatedSms;
}

export interface SimulatedSms {
  sender: string;
  text: string;
  /** The code the text carries, known to the simulator; the broker still reads it out of the text. */
  code: string;
}

/** Upstream statuses (lower case) after which an activation changes no more. */
export const FINAL_STATUSES: ReadonlySet<string> = new Set(['error', 'refunded', 'serviceconsumed']);

/** An upstream provider (TempNumber): numbers bought per order, SMS read by polling. */
export interface Upstream {
  /** `platform/country` → what one number costs there now. */
  priceList(): Promise<Map<string, Micros>>;
  activate(platform: string, country: string, expectedPrice: Micros): Promise<UpstreamActivation>;
  check(activationId: string): Promise<UpstreamCheck>;
  /** Asks for another SMS on the same number. */
  retry(activationId: string): Promise<void>;
  /** What is left of the operator's money there. */
  balance(): Promise<Micros>;
}

export type UpstreamEndpoint = 'createActivation' | 'getActivation' | 'updateActivation' | 'pricelist' | 'balance';

export interface UpstreamActivation {
  id: string;
  phone: string;
  price: Micros;
  status: string;
}

export interface UpstreamCheck {
  status: string;
  message: string | null;
  code: string | null;
}

export type UpstreamErrorKind =
  | 'rate_limited'
  | 'payment_required'
  | 'low_success_rate'
  | 'no_numbers'
  | 'price_changed'
  | 'not_found'
  | 'bad_state'
  | 'unauthorized'
  | 'unavailable';

/** What went wrong upstream, in terms the router acts on. */
export class UpstreamError extends Error {
  readonly retryAfterMs?: number;
  readonly newPrice?: Micros;
  /** True when our own bucket held the call back (nothing was sent). */
  readonly local: boolean;

  constructor(
    readonly kind: UpstreamErrorKind,
    message: string,
    extra: { retryAfterMs?: number; newPrice?: Micros; local?: boolean } = {},
  ) {
    super(message);
    this.name = 'UpstreamError';
    this.retryAfterMs = extra.retryAfterMs;
    this.newPrice = extra.newPrice;
    this.local = extra.local ?? false;
  }
}
