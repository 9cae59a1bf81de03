import { Type, type TSchema } from '@sinclair/typebox';
import { IDEMPOTENCY_KEY_MAX, ORDER_ID_MAX, ORDER_ID_PATTERN, PER_ATTEMPT_SECONDS, VERIFY_ATTEMPTS, VERIFY_TIMEOUT } from '../core/limits.js';

/**
 * The JSON schemas of the HTTP API. Routes validate and serialise with them, and the OpenAPI
 * document is generated from the same objects, so the two cannot drift apart.
 */

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Usd = Type.Number({ minimum: 0, description: 'USD; exact to the micro-dollar' });
const Iso = Type.String({ format: 'date-time' });

export const ErrorBody = Type.Object(
  {
    error: Type.Object(
      {
        code: Type.String({ description: 'invalid_request, unknown_platform, unknown_country, batch_too_large, unauthorized, insufficient_balance, price_above_max, not_found, order_not_active, payload_too_large, idempotency_key_reused, rate_limited, delivery_rate_low, no_numbers, unavailable; forbidden on the inbound endpoint' }),
        message: Type.String(),
        status: Type.Integer(),
      },
      { additionalProperties: true },
    ),
  },
  { $id: 'Error' },
);

export const Order = Type.Object(
  {
    order_id: Type.String(),
    platform: Type.String(),
    country: Type.String({ description: 'lower-case ISO 3166-1 alpha-2' }),
    phone: Type.String({ description: 'E.164' }),
    price: Usd,
    status: Type.Union([Type.Literal('active'), Type.Literal('completed'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('failed')]),
    code: Nullable(Type.String()),
    sms: Nullable(Type.String()),
    codes: Type.Array(Type.String()),
    refunded: Type.Boolean(),
    created_at: Iso,
    expires_at: Iso,
    completed_at: Nullable(Iso),
  },
  { $id: 'Order' },
);

const OrderRef = Type.Ref(Order);

/** `POST /verify`'s answer: the order, and with `attempts` asked for, every number it tried. */
export const VerifyAnswer = Type.Object({
  ...Order.properties,
  attempts: Type.Optional(
    Type.Array(
      Type.Object({
        order_id: Type.String(),
        phone: Type.String(),
        price: Usd,
        outcome: Type.Union([Type.Literal('completed'), Type.Literal('no_sms'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('failed')]),
        refund: Usd,
      }),
    ),
  ),
});
const ErrorRef = Type.Ref(ErrorBody);

/** Every authenticated body may carry the key itself (the seed's third way). */
const ApiKeyField = { api_key: Type.Optional(Type.String({ maxLength: 200, description: 'the API key, when no header carries it' })) };
const IdempotencyKey = Type.String({ minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX });
const PlatformField = Type.String({ minLength: 1, maxLength: 64, description: 'platform id or alias, e.g. instagram, wa' });
const CountryField = Type.String({ minLength: 1, maxLength: 64, description: 'ISO 3166-1 alpha-2, a country name, or "any"' });
const MaxPriceField = Type.Number({ exclusiveMinimum: 0, description: 'USD: refused with 402 price_above_max, nothing charged, if the price for this account is higher' });

export const OrderBody = Type.Object(
  { platform: PlatformField, country: Type.Optional(CountryField), idempotency_key: Type.Optional(IdempotencyKey), max_price: Type.Optional(MaxPriceField), ...ApiKeyField },
  { additionalProperties: false },
);

export const VerifyBody = Type.Object(
  {
    platform: PlatformField,
    country: Type.Optional(CountryField),
    // No schema default: without attempts the core's is 120, with attempts their time over all of them.
    timeout_seconds: Type.Optional(
      Type.Integer({
        minimum: VERIFY_TIMEOUT.min,
        maximum: VERIFY_TIMEOUT.max,
        description: `the whole verify, every attempt included; default ${VERIFY_TIMEOUT.default}, or with attempts attempts × per_attempt_seconds up to ${VERIFY_TIMEOUT.max}`,
      }),
    ),
    idempotency_key: Type.Optional(IdempotencyKey),
    max_price: Type.Optional(MaxPriceField),
    attempts: Type.Optional(
      Type.Integer({ minimum: VERIFY_ATTEMPTS.min, maximum: VERIFY_ATTEMPTS.max, description: `numbers tried in turn when one gets no SMS (default ${VERIFY_ATTEMPTS.default})` }),
    ),
    per_attempt_seconds: Type.Optional(
      Type.Integer({ minimum: PER_ATTEMPT_SECONDS.min, maximum: PER_ATTEMPT_SECONDS.max, description: `how long each number waits for its SMS (default ${PER_ATTEMPT_SECONDS.default})` }),
    ),
    ...ApiKeyField,
  },
  { additionalProperties: false },
);

export const BatchBody = Type.Object(
  {
    orders: Type.Array(
      Type.Object(
        { platform: PlatformField, country: Type.Optional(CountryField), idempotency_key: Type.Optional(IdempotencyKey), max_price: Type.Optional(MaxPriceField) },
        { additionalProperties: false },
      ),
    ),
    ...ApiKeyField,
  },
  { additionalProperties: false },
);

export const BatchResult = Type.Object({
  results: Type.Array(
    Type.Union([
      Type.Object({ ok: Type.Literal(true), order: OrderRef }),
      Type.Object({ ok: Type.Literal(false), error: Type.Object({ code: Type.String(), message: Type.String() }) }),
    ]),
  ),
  total_price: Usd,
});

export const AgentBody = Type.Object({ query: Type.String({ minLength: 1, maxLength: 500 }), ...ApiKeyField }, { additionalProperties: false });

const ServiceItem = Type.Object({ platform: Type.String(), name: Type.String(), price: Usd, your_price: Type.Optional(Usd) });
const AvailabilityItem = Type.Object({
  platform: Type.String(),
  success_rate: Nullable(Type.Number({ minimum: 0, maximum: 1 })),
  stock: Type.Integer({ minimum: 0 }),
  median_delivery_seconds: Nullable(Type.Number({ minimum: 0 })),
});

export const AgentAnswer = Type.Object({
  understood: Type.Boolean(),
  intent: Type.Optional(Type.String()),
  interpretation: Type.Optional(
    Type.Object({
      platform: Type.Optional(Type.String()),
      country: Type.Optional(Type.String()),
      quantity: Type.Optional(Type.Integer()),
      max_price: Type.Optional(Type.Number()),
    }),
  ),
  message: Type.String(),
  suggestions: Type.Optional(Type.Array(Type.String())),
  orders: Type.Optional(Type.Array(OrderRef)),
  errors: Type.Optional(Type.Array(Type.Object({ code: Type.String(), message: Type.String() }))),
  prices: Type.Optional(Type.Array(ServiceItem)),
  balance: Type.Optional(Usd),
  availability: Type.Optional(Type.Array(AvailabilityItem)),
});

export const ServicesList = Type.Object({ service: Type.String(), total_platforms: Type.Integer(), services: Type.Array(ServiceItem) });
export const Availability = Type.Object({ platforms: Type.Array(AvailabilityItem) });

const DepositAddresses = Type.Record(Type.String(), Type.String());

export const Registration = Type.Object({
  api_key: Type.String(),
  account_id: Type.String(),
  balance: Usd,
  tier: Type.String(),
  deposit_addresses: DepositAddresses,
  webhook_secret: Type.String(),
});

export const AccountInfo = Type.Object({
  account_id: Type.String(),
  balance: Usd,
  tier: Type.String(),
  discount_percent: Type.Integer(),
  completed_orders: Type.Integer(),
  next_tier: Nullable(Type.Object({ tier: Type.String(), orders_needed: Type.Integer() })),
  stats: Type.Object({
    orders: Type.Integer(),
    completed: Type.Integer(),
    cancelled: Type.Integer(),
    expired: Type.Integer(),
    failed: Type.Integer(),
    spent: Usd,
  }),
  deposit_addresses: DepositAddresses,
  webhook: Nullable(Type.Object({ url: Type.String() })),
  recent_orders: Type.Array(OrderRef),
  sandbox: Type.Optional(Type.Boolean()),
  delivery_guards: Type.Optional(
    Type.Array(Type.Object({ platform: Type.String(), country: Type.String(), ended: Type.Integer(), delivered: Type.Integer(), lifts_at: Iso })),
  ),
});

export const UsageQuery = Type.Object({ days: Type.Optional(Type.Integer({ minimum: 1, maximum: 365, default: 30 })) }, { additionalProperties: false });

export const Usage = Type.Object({
  days: Type.Integer(),
  platforms: Type.Array(
    Type.Object({ platform: Type.String(), orders: Type.Integer(), completed: Type.Integer(), spent: Usd, success_rate: Nullable(Type.Number()) }),
  ),
  daily: Type.Array(Type.Object({ date: Type.String({ format: 'date' }), orders: Type.Integer(), completed: Type.Integer(), spent: Usd })),
});

export const WebhookBody = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2048 }),
    low_balance_threshold: Type.Optional(Type.Number({ minimum: 0, maximum: 1e9, description: 'USD; balance.low fires once per crossing below it (default 1.00)' })),
    ...ApiKeyField,
  },
  { additionalProperties: false },
);
export const WebhookSet = Type.Object({ url: Type.String(), secret: Type.String({ description: 'whsec_…, for verifying the signatures' }) });
export const WebhookInfo = Type.Object({
  url: Nullable(Type.String()),
  secret: Type.String(),
  previous_secret_expires_at: Nullable(Iso),
  disabled: Nullable(Type.Object({ at: Iso, reason: Type.String() })),
  low_balance_threshold: Usd,
  recent_deliveries: Type.Array(
    Type.Object({
      webhook_id: Type.String(),
      type: Type.String(),
      attempted_at: Iso,
      attempt: Type.Integer(),
      status_code: Nullable(Type.Integer()),
      error: Nullable(Type.String()),
      duration_ms: Type.Integer({ minimum: 0 }),
      outcome: Type.Union([Type.Literal('delivered'), Type.Literal('retry_scheduled'), Type.Literal('failed')], { description: "this attempt's own outcome" }),
      next_attempt_at: Nullable(Iso),
      state: Type.String({ description: "the delivery's state now: pending, delivered or failed" }),
    }),
  ),
});
export const WebhookTest = Type.Object({ webhook_id: Type.String(), type: Type.String() });
export const WebhookRotated = Type.Object({ secret: Type.String(), previous_secret_expires_at: Iso });
export const Empty = Type.Object({});
/** The body of an authenticated route that takes no parameters: the key, if no header carries it. Read by hand (`apiKeyOf`), never required. */
export const KeyOnlyBody = Type.Object({ ...ApiKeyField }, { additionalProperties: false });
/** `Idempotency-Key`, read by hand beside the body's `idempotency_key` (both at once must agree). */
export const IdempotencyHeaders = Type.Object({
  'idempotency-key': Type.Optional(Type.String({ minLength: 1, maxLength: IDEMPOTENCY_KEY_MAX, description: "the body's idempotency_key as a header; on batch, item i gets <key>#i" })),
});

export const Health = Type.Object({
  status: Type.String(),
  uptime_seconds: Type.Number(),
  version: Type.String(),
  database: Type.Optional(Type.String({ description: '`reachable`, or `unreachable` while the database cannot be read' })),
  instance: Type.Optional(Type.String({ description: 'this server process among the instances sharing a database' })),
});

export const EventsQuery = Type.Object(
  { last_event_id: Type.Optional(Type.String({ maxLength: 64, description: 'resume after this event (its id, msg_…), like the Last-Event-ID header' })) },
  { additionalProperties: false },
);

export const PricesQuery = Type.Object(
  {
    by: Type.Union([Type.Literal('country'), Type.Literal('service')], { description: 'country: every country for one platform; service: every platform in one country' }),
    platform: Type.Optional(PlatformField),
    country: Type.Optional(CountryField),
  },
  { additionalProperties: false },
);

export const PriceList = Type.Object({
  by: Type.String(),
  platform: Type.Optional(Type.String()),
  country: Type.Optional(Type.String()),
  items: Type.Array(Type.Object({ platform: Type.String(), country: Type.String(), price: Usd, your_price: Usd, stock: Type.Integer({ minimum: 0 }) })),
});

export const OrdersQuery = Type.Object(
  {
    status: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('completed'), Type.Literal('cancelled'), Type.Literal('expired'), Type.Literal('failed')])),
    platform: Type.Optional(PlatformField),
    country: Type.Optional(CountryField),
    since: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date or date-time (inclusive)' })),
    until: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date or date-time (exclusive)' })),
    page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: 20 })),
  },
  { additionalProperties: false },
);

export const OrderPage = Type.Object({
  orders: Type.Array(OrderRef),
  page: Type.Integer(),
  limit: Type.Integer(),
  pages: Type.Integer(),
  total: Type.Integer(),
});

export const OrderParams = Type.Object({ id: Type.String({ minLength: 1, maxLength: ORDER_ID_MAX, pattern: ORDER_ID_PATTERN }) });

/** Route config of the routes that act for an account (their OpenAPI security follows from it). */
export const AUTH = { auth: true };

export const SHARED_SCHEMAS = [ErrorBody, Order];
export { OrderRef, ErrorRef };
