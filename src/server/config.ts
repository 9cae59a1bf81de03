import { readFileSync } from 'node:fs';
import { Type, type Static } from '@sinclair/typebox';
import { Value } from '@sinclair/typebox/value';
import { TnError } from '../core/errors.js';

const RouteLimit = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 1_000_000, description: 'requests per window, per API key (or client IP without one)' }),
    windowSeconds: Type.Number({ exclusiveMinimum: 0, maximum: 86_400 }),
  },
  { additionalProperties: false },
);

const DepositCoin = Type.Object(
  {
    xpub: Type.String({ minLength: 100, maxLength: 120, description: "the account-level extended PUBLIC key (m/84'/coin'/account'): zpub/xpub, vpub/tpub for testnet; Ltub for Litecoin" }),
    esplora_url: Type.String({ pattern: '^https?://', maxLength: 2048, description: 'an Esplora-compatible API, e.g. https://blockstream.info/api' }),
    confirmations: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
  },
  { additionalProperties: false },
);

/** Issue 16: crypto deposits. Each configured coin needs its rate. */
const Deposits = Type.Object(
  {
    btc: Type.Optional(DepositCoin),
    ltc: Type.Optional(DepositCoin),
    usd_rates: Type.Object(
      { btc: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e9 })), ltc: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e9 })) },
      { additionalProperties: false },
    ),
    minimum_usd: Type.Optional(Type.Number({ minimum: 0, maximum: 1e6 })),
    poll_seconds: Type.Optional(Type.Number({ minimum: 1, maximum: 3600, description: 'how often an address someone waits on is looked at (default 30)' })),
  },
  { additionalProperties: false },
);

/** `tn serve --config <file>`: what an operator can set without flags. Flags win over the file. */
export const ServeConfig = Type.Object(
  {
    rateLimits: Type.Optional(
      Type.Object(
        {
          perKeyPerSecond: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
          registerPerHour: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
          /** Keyed by `METHOD /api/v1/path` as routes are declared, e.g. `GET /api/v1/order/:id`. */
          routes: Type.Optional(Type.Record(Type.String({ pattern: '^(GET|POST|PUT|DELETE) /api/v1/' }), RouteLimit)),
        },
        { additionalProperties: false },
      ),
    ),
    deliveryGuard: Type.Optional(
      Type.Union([
        Type.Literal(false),
        Type.Object(
          {
            minOrders: Type.Integer({ minimum: 1, maximum: 10_000 }),
            minRate: Type.Number({ minimum: 0, maximum: 1 }),
            windowHours: Type.Number({ exclusiveMinimum: 0, maximum: 24 * 30 }),
          },
          { additionalProperties: false },
        ),
      ]),
    ),
    /** Issue 20 §3: how long a client may take to send its request (DEFAULT_TIMEOUTS when left out). */
    timeouts: Type.Optional(
      Type.Object(
        {
          headersSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'the request headers must arrive within this' })),
          requestSeconds: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 3600, description: 'the whole request, headers and body, within this' })),
        },
        { additionalProperties: false },
      ),
    ),
    deposits: Type.Optional(Deposits),
    /** Issue 7: how orders are routed among sources. */
    routing: Type.Optional(
      Type.Object(
        {
          successFloor: Type.Optional(
            Type.Object(
              {
                window: Type.Integer({ minimum: 1, maximum: 10_000, description: 'ended orders looked at, per source' }),
                minRate: Type.Number({ minimum: 0, maximum: 1, description: 'a source below this share of delivered orders goes last' }),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type ServeConfig = Static<typeof ServeConfig>;

export function readServeConfig(file: string): ServeConfig {
  let data: unknown;
  try {
    data = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new TnError('invalid_request', `Cannot read the config file ${file}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const first = [...Value.Errors(ServeConfig, data)][0];
  if (first) throw new TnError('invalid_request', `Config file ${file}: ${first.path || '/'} ${first.message}.`);
  const config = data as ServeConfig;
  const deposits = config.deposits;
  for (const coin of ['btc', 'ltc'] as const) {
    if (deposits?.[coin] && deposits.usd_rates[coin] === undefined) throw new TnError('invalid_request', `Config file ${file}: /deposits/usd_rates/${coin} is required with /deposits/${coin}.`);
  }
  return config;
}
