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
  return data as ServeConfig;
}
