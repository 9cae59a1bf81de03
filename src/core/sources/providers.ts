/**
 * The ports that providers implement (`src/providers/`): where numbers and SMS come from. The core
 * knows only these shapes; a provider's own protocol stays in its adapter.
 */
import type { Micros } from '../money.js';
import type { GatewayKind } from './kinds.js';

/**
 * A source that makes its own numbers and SMS (the simulator): the broker asks it for a number,
 * records when its SMS is due, and asks it to compose that SMS when the time comes (in whichever
 * process is alive then).
 */
export interface NumberSource {
  readonly id: string;
  /** Countries (lower-case ISO 3166-1 alpha-2) where this source has numbers for the platform. */
  countries(platform: string): readonly string[];
  /** How many orders of a platform in a country it can serve at once. */
  capacity(platform: string, country: string): number;
  /**
   * A free number in E.164 form: it offers candidates, a few at a time, to `held`, which answers
   * those already held; null when every number is.
   */
  pickPhone(platform: string, country: string, held: (candidates: readonly string[]) => Promise<Set<string>>): Promise<string | null>;
  /** Milliseconds until the next SMS after an order or a retry; null when none will come. */
  planDelivery(kind: 'order' | 'retry'): number | null;
  /** The SMS that arrives for a scheduled delivery. */
  composeSms(platform: string): SimulatedSms;
}

export interface SimulatedSms {
  sender: string;
  text: string;
  /** The code the text carries, known to the simulator: passed on as a provider-parsed code. */
  code: string;
}

/** A provider numbers are bought from per order, whose SMS are read by polling. */
export interface Upstream {
  /** `platform/country` → what one number costs there now. */
  priceList(): Promise<Map<string, Micros>>;
  activate(platform: string, country: string, expectedPrice: Micros): Promise<UpstreamActivation>;
  /** Where the activation stands, for the SMS of its first wait or of a retry. */
  check(activationId: string, phase: 'first' | 'retry'): Promise<UpstreamCheck>;
  /** Asks for another SMS on the same number. */
  retry(activationId: string): Promise<void>;
  /** What is left of the operator's money there. */
  balance(): Promise<Micros>;
  /**
   * Tells the provider an activation is over, for providers that bill or hold a number until then
   * (the sms-activate family): `cancel` (no code came, give the money back) or `finish` (the code
   * was used). Called after the order's commit, again later while it fails; absent for providers
   * whose activations lapse on their own (TempNumber).
   */
  release?(activationId: string, outcome: ReleaseOutcome): Promise<void>;
}

export type ReleaseOutcome = 'cancel' | 'finish';

export type UpstreamEndpoint = 'createActivation' | 'getActivation' | 'updateActivation' | 'pricelist' | 'balance';

/** Per-endpoint limits of an upstream (its adapter knows them), enforced with buckets in the database. */
export type UpstreamLimits = Record<UpstreamEndpoint, { max: number; windowMs: number }>;

export interface UpstreamActivation {
  id: string;
  phone: string;
  price: Micros;
  status: string;
}

/** `sms`: the awaited message is there; `final`: the activation ended without it; `waiting`: ask again later. */
export interface UpstreamCheck {
  state: 'waiting' | 'sms' | 'final';
  /** The provider's own word for it, kept for the operator. */
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
  | 'unavailable'
  /** The provider refuses to cancel this soon after the purchase (EARLY_CANCEL_DENIED): ask again later. */
  | 'too_early';

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

export const asUpstreamError = (err: unknown): UpstreamError =>
  err instanceof UpstreamError ? err : new UpstreamError('unavailable', err instanceof Error ? err.message : String(err));

/** Builds the client of an upstream from its record; `limiter` takes a token of the endpoint's shared bucket (0 when granted, else ms to wait). */
export type UpstreamFactory = (
  record: { name: string; kind: string; secret: string | null; settings: { baseUrl?: string } },
  limiter: (endpoint: UpstreamEndpoint, limit: { max: number; windowMs: number }) => Promise<number>,
) => Upstream;

// ── inbound gateways ───────────────────────────────────────────────────────

export interface InboundRequest {
  method: string;
  /** Full public URL including the query, as the gateway called it (Twilio signs it). */
  url: string;
  /** Header names in lower case. */
  headers: Record<string, string | undefined>;
  rawBody: string;
  /** Milliseconds since the epoch. */
  now: number;
}

export interface InboundMessage {
  /** The receiving number in E.164 with `+`; null when the gateway names a device and SIM instead. */
  to: string | null;
  /** The sender: E.164 with `+` when it is a number, otherwise the alphanumeric sender id as sent. */
  from: string;
  text: string;
  receivedAt: number;
  /** The gateway's own id for the message (for idempotency), when it gives one. */
  messageId: string | null;
  device?: { id: string; sim: number | null };
}

export interface InboundReply {
  status: number;
  contentType: string;
  body: string;
}

export type InboundResult =
  | { ok: true; message: InboundMessage; reply: InboundReply }
  | { ok: false; status: 400 | 403; reason: string };

/** Authenticates, then parses, one inbound request of a gateway's format; never throws. */
export type InboundParser = (kind: GatewayKind, secret: string, request: InboundRequest) => InboundResult;
