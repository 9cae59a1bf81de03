/**
 * `tn mcp`: a Model Context Protocol server over stdio (issue 17 §3), on the same `Broker` as every
 * command, so it works on `local` and on any endpoint with the configured key. Loaded only by
 * `tn mcp` (see commands/mcp.ts): the SDK and zod cost nothing to the other commands.
 *
 * Spending is bounded per process: every call that may buy passes the broker a `max_price` no
 * higher than what is left of `--max-spend` (and `--max-price`), so the broker itself refuses,
 * charging nothing, an order that would go over; such calls run one at a time so that two of
 * them cannot both count on the same money.
 */
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
import type { CallToolResult, ServerNotification, ServerRequest } from '@modelcontextprotocol/sdk/types.js';
import type { RequestHandlerExtra } from '@modelcontextprotocol/sdk/shared/protocol.js';
import { z } from 'zod';
import type { Broker, VerifiedOrder } from '../core/broker.js';
import { EXIT, isTnError } from '../core/errors.js';
import { PER_ATTEMPT_SECONDS, VERIFY_ATTEMPTS, VERIFY_TIMEOUT } from '../core/limits.js';
import { formatUsd, toUsd, usdNumberToMicros, type Micros } from '../core/money.js';
import type { Order } from '../core/orders/order.js';
import type { Factory } from './factory.js';
import { VERSION } from './version.js';

export interface McpOptions {
  /** USD this server process may spend in all (net of refunds). */
  maxSpend: number;
  maxPrice?: number;
}

type Extra = RequestHandlerExtra<ServerRequest, ServerNotification>;

const micros = (usd: number): Micros => usdNumberToMicros(usd) ?? 0;

const OrderShape = z
  .object({
    order_id: z.string(),
    platform: z.string(),
    country: z.string(),
    phone: z.string(),
    price: z.number(),
    status: z.enum(['active', 'completed', 'cancelled', 'expired', 'failed']),
    code: z.string().nullable(),
    sms: z.string().nullable(),
    codes: z.array(z.string()),
    refunded: z.boolean(),
    created_at: z.string(),
    expires_at: z.string(),
    completed_at: z.string().nullable(),
  })
  .passthrough();

const AttemptShape = z.object({
  order_id: z.string(),
  phone: z.string(),
  price: z.number(),
  outcome: z.enum(['completed', 'no_sms', 'cancelled', 'expired', 'failed']),
  refund: z.number(),
});

const Platform = z.string().min(1).max(64).describe('platform id or alias: instagram, wa, tg, … ("other" for any site not listed)');
const Country = z.string().min(1).max(64).describe('ISO 3166-1 alpha-2 code, a country name, or "any"');
const OrderId = z.string().regex(/^[A-Za-z0-9_-]{1,64}$/).describe('an order id, ord_…');
const MaxPrice = z.number().positive().describe('USD: refuse if one number would cost more');

/** What this process has spent: debits of the orders it made, less their refunds. */
class Budget {
  private readonly orders = new Map<string, { price: Micros; refunded: boolean }>();
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    readonly cap: Micros,
    readonly maxPrice: Micros | undefined,
  ) {}

  spent(): Micros {
    let sum = 0;
    for (const o of this.orders.values()) if (!o.refunded) sum += o.price;
    return sum;
  }

  left(): Micros {
    return Math.max(0, this.cap - this.spent());
  }

  /** Remembers an order this process bought, or what became of it (a refund gives its price back). */
  saw(order: Order): void {
    const known = this.orders.get(order.order_id);
    if (known) known.refunded = order.refunded;
  }

  bought(order: Order): void {
    this.orders.set(order.order_id, { price: micros(order.price), refunded: order.refunded });
  }

  /** Runs one buying call after the previous ones, with the price limit it may use. */
  spend<T>(asked: number | undefined, work: (limit: Micros) => Promise<T>): Promise<T> {
    const run = this.queue.then(() => {
      const limits = [this.left(), this.maxPrice, asked === undefined ? undefined : micros(asked)].filter((l): l is number => l !== undefined);
      return work(Math.min(...limits));
    });
    this.queue = run.catch(() => undefined);
    return run;
  }

  summary(): { max_spend: number; spent: number; left: number; max_price: number | null } {
    return { max_spend: toUsd(this.cap), spent: toUsd(this.spent()), left: toUsd(this.left()), max_price: this.maxPrice === undefined ? null : toUsd(this.maxPrice) };
  }
}

class SpendCapReached extends Error {}

function text(value: unknown): CallToolResult['content'] {
  return [{ type: 'text', text: JSON.stringify(value) }];
}

function ok<T extends Record<string, unknown>>(value: T): CallToolResult {
  return { content: text(value), structuredContent: value };
}

function failed(message: string, details: Record<string, unknown> = {}): CallToolResult {
  return { isError: true, content: [{ type: 'text', text: message }], structuredContent: { error: { message, ...details } } };
}

/** A progress notification, when the client asked for them with a progress token. */
function progress(extra: Extra): (step: number, message: string) => void {
  const token = extra._meta?.progressToken;
  return (step, message) => {
    if (token === undefined) return;
    void extra.sendNotification({ method: 'notifications/progress', params: { progressToken: token, progress: step, message } }).catch(() => undefined);
  };
}

export function buildMcpServer(broker: Broker, budget: Budget): McpServer {
  const server = new McpServer({ name: 'tn', version: VERSION });

  /** A tool's errors become tool errors (the model reads them), never protocol failures. */
  const tool = async (work: () => Promise<CallToolResult>): Promise<CallToolResult> => {
    try {
      return await work();
    } catch (err) {
      if (err instanceof SpendCapReached) return failed(err.message, { code: 'max_spend_reached', ...budget.summary() });
      if (isTnError(err)) return failed(err.message, { code: err.code, ...err.details });
      throw err;
    }
  };

  /** The broker's price_above_max, told as the cap it came from: this process's budget or the per-number limit. */
  const buying = <T>(asked: number | undefined, work: (maxPrice: number) => Promise<T>): Promise<T> =>
    budget.spend(asked, async (limit) => {
      const left = budget.left();
      if (left === 0) throw new SpendCapReached(`The spending cap of this MCP server is reached (${formatUsd(budget.spent())} of ${formatUsd(budget.cap)}): nothing was ordered.`);
      try {
        return await work(toUsd(limit));
      } catch (err) {
        if (isTnError(err) && err.code === 'price_above_max' && limit === left) {
          const price = typeof err.details.price === 'number' ? ` ${formatUsd(micros(err.details.price))}` : '';
          throw new SpendCapReached(`The price${price} is more than the ${formatUsd(left)} left of this MCP server's spending cap (${formatUsd(budget.cap)}): nothing was ordered.`);
        }
        throw err;
      }
    });

  server.registerTool(
    'list_services',
    {
      description: 'Platforms a number can be ordered for, with the list price and the price for this account.',
      inputSchema: {},
      outputSchema: { services: z.array(z.object({ platform: z.string(), name: z.string(), price: z.number(), your_price: z.number().optional() }).passthrough()) },
    },
    () => tool(async () => ok({ services: (await broker.services()).services })),
  );

  server.registerTool(
    'get_prices',
    {
      description: 'Prices and stock: every country for one platform, or every platform in one country.',
      inputSchema: { platform: Platform.optional(), country: Country.optional() },
      outputSchema: { items: z.array(z.object({ platform: z.string(), country: z.string(), price: z.number(), your_price: z.number(), stock: z.number() }).passthrough()) },
    },
    ({ platform, country }) =>
      tool(async () => {
        if (platform !== undefined) {
          const items = (await broker.prices({ by: 'country', platform })).items;
          return ok({ items: country === undefined ? items : items.filter((i) => i.country === country.toLowerCase()) });
        }
        if (country !== undefined) return ok({ items: (await broker.prices({ by: 'service', country })).items });
        return failed('Give a platform, a country, or both.');
      }),
  );

  server.registerTool(
    'order_number',
    {
      description: 'Order a number and return at once (then wait_for_code). Charged now, refunded if no SMS comes before it expires or it is cancelled.',
      inputSchema: { platform: Platform, country: Country.optional(), max_price: MaxPrice.optional() },
      outputSchema: { order: OrderShape, budget: z.object({}).passthrough() },
    },
    ({ platform, country, max_price }) =>
      tool(async () => {
        const order = await buying(max_price, (maxPrice) => broker.order({ platform, country, maxPrice }));
        budget.bought(order);
        return ok({ order, budget: budget.summary() });
      }),
  );

  server.registerTool(
    'wait_for_code',
    {
      description: "Wait for an order's SMS and return the order with its code; the events of the order come as progress notifications.",
      inputSchema: { order_id: OrderId, timeout_seconds: z.number().int().min(1).max(VERIFY_TIMEOUT.max).optional().describe(`seconds (default ${VERIFY_TIMEOUT.default})`) },
      outputSchema: { order: OrderShape },
    },
    ({ order_id, timeout_seconds }, extra) =>
      tool(async () => {
        const tell = progress(extra);
        const deadline = Date.now() + (timeout_seconds ?? VERIFY_TIMEOUT.default) * 1000;
        let order = await broker.getOrder(order_id);
        let step = 0;
        tell(step++, `${order.status} on ${order.phone}`);
        // In slices, so the client hears that the wait goes on.
        while (order.status === 'active' && Date.now() < deadline && !extra.signal.aborted) {
          order = await broker.wait(order_id, { timeoutMs: Math.min(5_000, deadline - Date.now()), signal: extra.signal });
          tell(step++, order.status === 'active' ? `waiting for the SMS on ${order.phone}` : `${order.status}${order.code ? `: code ${order.code}` : ''}`);
        }
        budget.saw(order);
        return ok({ order });
      }),
  );

  server.registerTool(
    'verify',
    {
      description:
        'Order a number and wait for its code in one call. With attempts, a number that gets no SMS within per_attempt_seconds is refunded and another one ordered. A code that never comes costs nothing.',
      inputSchema: {
        platform: Platform,
        country: Country.optional(),
        timeout_seconds: z.number().int().min(VERIFY_TIMEOUT.min).max(VERIFY_TIMEOUT.max).optional(),
        attempts: z.number().int().min(VERIFY_ATTEMPTS.min).max(VERIFY_ATTEMPTS.max).optional(),
        per_attempt_seconds: z.number().int().min(PER_ATTEMPT_SECONDS.min).max(PER_ATTEMPT_SECONDS.max).optional(),
        max_price: MaxPrice.optional(),
      },
      outputSchema: { order: OrderShape.extend({ attempts: z.array(AttemptShape).optional() }), budget: z.object({}).passthrough() },
    },
    ({ platform, country, timeout_seconds, attempts, per_attempt_seconds, max_price }, extra) =>
      tool(async () => {
        const tell = progress(extra);
        let step = 0;
        const order: VerifiedOrder = await buying(max_price, (maxPrice) =>
          broker.verify(
            { platform, country, timeoutSeconds: timeout_seconds, attempts, perAttemptSeconds: per_attempt_seconds, maxPrice },
            {
              signal: extra.signal,
              onOrder: (o) => tell(step++, `waiting for the SMS on ${o.phone} (${formatUsd(micros(o.price))})`),
              onAttempt: (s) => tell(step++, `no SMS on ${s.attempt.phone}, refunded; trying another number (${s.index + 1}/${s.of})`),
            },
          ),
        );
        budget.bought(order);
        return ok({ order, budget: budget.summary() });
      }),
  );

  server.registerTool(
    'get_order',
    { description: 'An order as it is now.', inputSchema: { order_id: OrderId }, outputSchema: { order: OrderShape } },
    ({ order_id }) =>
      tool(async () => {
        const order = await broker.getOrder(order_id);
        budget.saw(order);
        return ok({ order });
      }),
  );

  server.registerTool(
    'cancel_order',
    { description: 'Cancel an active order; its price is refunded.', inputSchema: { order_id: OrderId }, outputSchema: { order: OrderShape, budget: z.object({}).passthrough() } },
    ({ order_id }) =>
      tool(async () => {
        const order = await broker.cancel(order_id);
        budget.saw(order);
        return ok({ order, budget: budget.summary() });
      }),
  );

  server.registerTool(
    'get_balance',
    {
      description: "The account's balance and tier, and what is left of this MCP server's spending cap.",
      inputSchema: {},
      outputSchema: { balance: z.number(), tier: z.string(), budget: z.object({ max_spend: z.number(), spent: z.number(), left: z.number(), max_price: z.number().nullable() }) },
    },
    () =>
      tool(async () => {
        const account = await broker.account();
        return ok({ balance: account.balance, tier: account.tier, budget: budget.summary() });
      }),
  );

  return server;
}

export async function runMcp(opts: McpOptions, f: Factory): Promise<number> {
  const broker = await f.broker();
  const budget = new Budget(micros(opts.maxSpend), opts.maxPrice === undefined ? undefined : micros(opts.maxPrice));
  const server = buildMcpServer(broker, budget);
  const transport = new StdioServerTransport(f.io.stdin, f.io.stdout);
  // The client ends the session by closing our stdin.
  const closed = new Promise<void>((resolve) => {
    transport.onclose = () => resolve();
    f.io.stdin.once('end', () => resolve());
    f.io.stdin.once('close', () => resolve());
  });
  await server.connect(transport);
  f.io.err(`tn mcp: serving on stdio (${broker.endpoint}; spending cap ${formatUsd(budget.cap)}).`);
  await closed;
  await server.close().catch(() => undefined);
  return EXIT.ok;
}
