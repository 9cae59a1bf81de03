/**
 * The sms-activate `handler_api.php` protocol on the broker (issue 15 §1), so that bots and SDKs
 * written for that family work unchanged against `tn serve`. Each action is one call into the
 * core, the same calls the REST API makes (so its rules, idempotency, rate limits and the
 * delivery-rate guard hold here as there); this file only translates parameters and answers:
 * plain-text tokens or JSON, always HTTP 200, as the family's clients parse them.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyInstance, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Order } from '../../core/orders/order.js';
import { HANDLER_PATH, countryIdOf, countryIds, countryOfId, platformOfServiceCode, serviceCodeOf } from '../../core/catalogue/sms-activate-codes.js';
import { countryName } from '../../core/catalogue/countries.js';
import { PLATFORMS } from '../../core/catalogue/catalog.js';
import { TnError, type ErrorCode } from '../../core/errors.js';
import { IDEMPOTENCY_KEY_MAX, ORDER_PAGE } from '../../core/limits.js';
import { parseUsd } from '../../core/money.js';
import { toTnError } from '../plugins/errors.js';
import { KEY_OR_QUERY_KEY } from '../plugins/openapi.js';
import { AUTH } from '../schemas.js';

/** ISO 4217 numeric code of the US dollar, the currency of every amount tn answers. */
const USD = 840;

type Params = Record<string, string>;

/** A failure already in the protocol's words (`BAD_SERVICE`, `WRONG_MAX_PRICE:0.25`). */
class ProtocolAnswer extends Error {
  constructor(readonly token: string) {
    super(token);
  }
}

/**
 * The protocol's token for a broker error: the one place where our error codes meet its words.
 * Limits that have no word of their own there (rate limits) get one that names them, still with
 * HTTP 200; an idempotency key (`orderId`) reused for another request is its ORDER_ALREADY_EXISTS.
 */
export function protocolToken(err: unknown): string {
  if (err instanceof ProtocolAnswer) return err.token;
  if (!(err instanceof TnError)) return 'ERROR_SQL';
  const code: ErrorCode = err.code;
  switch (code) {
    case 'unauthorized':
    case 'forbidden':
      return 'BAD_KEY';
    case 'insufficient_balance':
      return 'NO_BALANCE';
    // delivery_rate_low: orders paused where recent ones got no SMS; for the caller, there are no numbers there now.
    case 'no_numbers':
    case 'unknown_country':
    case 'delivery_rate_low':
      return 'NO_NUMBERS';
    case 'unknown_platform':
      return 'BAD_SERVICE';
    case 'not_found':
      return 'NO_ACTIVATION';
    case 'order_not_active':
      return 'BAD_STATUS';
    case 'idempotency_key_reused':
      return 'ORDER_ALREADY_EXISTS';
    case 'rate_limited':
      return 'TOO_MANY_REQUESTS';
    case 'price_above_max':
      // The refusal of a price above the caller's maxPrice names the price it would be.
      return typeof err.details.price === 'number' ? `WRONG_MAX_PRICE:${err.details.price}` : 'BAD_ACTION';
    case 'invalid_request':
    case 'batch_too_large':
    case 'payload_too_large':
      return 'BAD_ACTION';
    case 'unavailable':
    case 'internal':
      return 'ERROR_SQL';
  }
}

/** `2026-11-21 23:30:00` (UTC), the protocol's timestamps. */
const stamp = (iso: string): string => iso.slice(0, 19).replace('T', ' ');

/** `+12025550143` → `12025550143`. */
const bare = (phone: string): string => phone.replace(/^\+/, '');

/** The first value of each parameter, from the query and the body together (the body wins). */
function paramsOf(request: FastifyRequest): Params {
  const out: Params = {};
  for (const source of [request.query, request.body]) {
    if (!source || typeof source !== 'object' || Array.isArray(source)) continue;
    for (const [k, v] of Object.entries(source as Record<string, unknown>)) {
      const first = Array.isArray(v) ? v[0] : v;
      if (typeof first === 'string') out[k] = first;
      else if (typeof first === 'number' || typeof first === 'boolean') out[k] = String(first);
    }
  }
  return out;
}

/**
 * `multipart/form-data` text fields: what PHP's curl sends for an array of POST fields, and
 * Python's requests for `files=`. Files are not part of this protocol and are refused.
 */
function parseMultipart(body: string, contentType: string): Params | null {
  const boundary = /boundary=(?:"([^"]+)"|([^;\s]+))/i.exec(contentType);
  const mark = boundary?.[1] ?? boundary?.[2];
  if (!mark) return null;
  const out: Params = {};
  for (const part of body.split(`--${mark}`).slice(1)) {
    if (part.startsWith('--')) break;
    const split = part.indexOf('\r\n\r\n');
    if (split < 0) continue;
    const head = part.slice(0, split);
    const name = /name="([^"]*)"/i.exec(head)?.[1];
    if (name === undefined || /filename=/i.test(head)) continue;
    out[name] = part.slice(split + 4).replace(/\r\n$/, '');
  }
  return out;
}

function required(params: Params, name: string, missing: string): string {
  const v = params[name]?.trim();
  if (!v) throw new ProtocolAnswer(missing);
  return v;
}

function platformParam(params: Params): string {
  const platform = platformOfServiceCode(required(params, 'service', 'BAD_SERVICE'));
  if (!platform) throw new ProtocolAnswer('BAD_SERVICE');
  return platform;
}

/** A country id: absent means any country; an id we do not know has no numbers. */
function countryParam(params: Params): string | undefined {
  const raw = params.country?.trim();
  if (raw === undefined || raw === '' || raw.toLowerCase() === 'any') return undefined;
  const iso = countryOfId(raw);
  if (!iso) throw new ProtocolAnswer('NO_NUMBERS');
  return iso;
}

function maxPriceParam(params: Params): number | undefined {
  const raw = params.maxPrice?.trim();
  if (raw === undefined || raw === '') return undefined;
  const micros = parseUsd(raw);
  if (micros === null) throw new ProtocolAnswer('BAD_ACTION');
  return micros;
}

/** The activation id: digits, else WRONG_ACTIVATION_ID; a number not of this account is NO_ACTIVATION. */
async function orderOf(app: FastifyInstance, accountId: string, params: Params): Promise<Order> {
  const raw = params.id?.trim() ?? '';
  if (!/^\d{1,15}$/.test(raw)) throw new ProtocolAnswer('WRONG_ACTIVATION_ID');
  const orderId = await app.core.orderIdByNumber(accountId, Number(raw));
  return app.core.getOrder(accountId, orderId);
}

/** The protocol's view of an order's state. */
function statusToken(order: Order): string {
  if (order.status === 'completed') return `STATUS_OK:${order.code ?? ''}`;
  if (order.status !== 'active') return 'STATUS_CANCEL';
  // Waiting again after a retry: the client is told the code it already has.
  const last = order.codes.at(-1);
  return last === undefined ? 'STATUS_WAIT_CODE' : `STATUS_WAIT_RETRY:${last}`;
}

type Handler = (app: FastifyInstance, accountId: string, params: Params, request: FastifyRequest) => Promise<string | object>;

async function placeOrder(app: FastifyInstance, accountId: string, params: Params, request: FastifyRequest): Promise<{ order: Order; num: number }> {
  const platform = platformParam(params);
  const country = countryParam(params);
  const maxPrice = maxPriceParam(params);
  const header = request.headers['idempotency-key'];
  const key = params.orderId?.trim() || (typeof header === 'string' && header !== '' ? header : undefined);
  if (key !== undefined && key.length > IDEMPOTENCY_KEY_MAX) throw new ProtocolAnswer('BAD_ACTION');
  const order = await app.core.order(accountId, { platform, country, idempotencyKey: key }, { maxPrice });
  const num = (await app.core.orderNumbers(accountId, [order.order_id])).get(order.order_id)!;
  return { order, num };
}

const activationView = (order: Order, num: number): Record<string, unknown> => ({
  activationId: num,
  phoneNumber: bare(order.phone),
  activationCost: order.price,
  currency: USD,
  countryCode: String(countryIdOf(order.country) ?? ''),
  canGetAnotherSms: true,
  activationTime: stamp(order.created_at),
  activationEndTime: stamp(order.expires_at),
  activationOperator: 'any',
});

const ACTIONS: Record<string, Handler> = {
  async getBalance(app, accountId) {
    const { balance } = await app.core.account(accountId);
    return `ACCESS_BALANCE:${balance.toFixed(Math.max(2, String(balance).split('.')[1]?.length ?? 0))}`;
  },

  async getNumber(app, accountId, params, request) {
    const { order, num } = await placeOrder(app, accountId, params, request);
    return `ACCESS_NUMBER:${num}:${bare(order.phone)}`;
  },

  async getNumberV2(app, accountId, params, request) {
    const { order, num } = await placeOrder(app, accountId, params, request);
    return activationView(order, num);
  },

  async getStatus(app, accountId, params) {
    return statusToken(await orderOf(app, accountId, params));
  },

  async getStatusV2(app, accountId, params) {
    const order = await orderOf(app, accountId, params);
    if (order.status !== 'active' && order.status !== 'completed') return 'STATUS_CANCEL';
    const sms =
      order.code === null
        ? null
        : { dateTime: order.completed_at ? stamp(order.completed_at) : null, code: order.code, text: order.sms };
    return { verificationType: 0, sms, call: null };
  },

  async setStatus(app, accountId, params) {
    const status = params.status?.trim();
    if (!status || !['1', '3', '6', '8'].includes(status)) throw new ProtocolAnswer('BAD_STATUS');
    const order = await orderOf(app, accountId, params);
    switch (status) {
      case '1':
        // "The SMS was sent": nothing to do, the order is already waiting.
        if (order.status !== 'active' && order.status !== 'completed') throw new ProtocolAnswer('BAD_STATUS');
        return 'ACCESS_READY';
      case '3':
        // "Another code": a completed order waits again; one still waiting already does.
        if (order.status === 'completed') await app.core.retry(accountId, order.order_id);
        else if (order.status !== 'active') throw new ProtocolAnswer('BAD_STATUS');
        return 'ACCESS_RETRY_GET';
      case '6': {
        // "Finished": a completed order stays so; one waiting for another code goes back to its last one.
        if (order.status === 'completed') return 'ACCESS_ACTIVATION';
        if (order.status !== 'active' || order.codes.length === 0) throw new ProtocolAnswer('BAD_STATUS');
        const ended = await app.core.cancel(accountId, order.order_id).catch((err: unknown) => (err instanceof TnError && err.code === 'order_not_active' ? null : Promise.reject(err)));
        const now = ended ?? (await app.core.getOrder(accountId, order.order_id));
        if (now.status !== 'completed') throw new ProtocolAnswer('BAD_STATUS');
        return 'ACCESS_ACTIVATION';
      }
      default: {
        // "Cancel": our cancel with its refund. An order that already ended with a refund answers as cancelled again.
        if (order.status === 'cancelled' || order.status === 'expired' || order.status === 'failed') return 'ACCESS_CANCEL';
        if (order.status === 'completed') throw new ProtocolAnswer('BAD_STATUS');
        const ended = await app.core.cancel(accountId, order.order_id);
        // A retry in progress ends on its last code, not refunded: that is a finish, not a cancel.
        return ended.status === 'completed' ? 'ACCESS_ACTIVATION' : 'ACCESS_CANCEL';
      }
    }
  },

  async getPrices(app, accountId, params) {
    const platform = params.service?.trim() ? platformParam(params) : undefined;
    const country = countryParam(params);
    const lists =
      platform !== undefined
        ? [await app.core.prices(accountId, { by: 'country', platform })]
        : country !== undefined
          ? [await app.core.prices(accountId, { by: 'service', country })]
          : await Promise.all(PLATFORMS.map((p) => app.core.prices(accountId, { by: 'country', platform: p.id })));
    const out: Record<string, Record<string, { cost: number; count: number }>> = {};
    for (const item of lists.flatMap((l) => l.items)) {
      if (country !== undefined && item.country !== country) continue;
      const id = countryIdOf(item.country);
      const code = serviceCodeOf(item.platform);
      if (id === undefined || code === undefined) continue;
      (out[String(id)] ??= {})[code] = { cost: item.your_price, count: item.stock };
    }
    return out;
  },

  async getTopCountriesByService(app, accountId, params) {
    const platform = platformParam(params);
    const { items } = await app.core.prices(accountId, { by: 'country', platform });
    const ranked = items
      .filter((i) => countryIdOf(i.country) !== undefined)
      .sort((a, b) => b.stock - a.stock || a.your_price - b.your_price);
    return Object.fromEntries(
      ranked.map((i, n) => [String(n), { country: countryIdOf(i.country)!, count: i.stock, price: i.your_price, retail_price: i.price }]),
    );
  },

  async getCountries() {
    return Object.fromEntries(
      countryIds().map(({ iso, id }) => {
        const name = countryName(iso) ?? iso;
        return [String(id), { id, rus: name, eng: name, chn: name, iso: iso.toUpperCase(), visible: 1, retry: 1, rent: 0, multiService: 0 }];
      }),
    );
  },

  async getServicesList() {
    return { status: 'success', services: PLATFORMS.map((p) => ({ code: serviceCodeOf(p.id)!, name: p.name })) };
  },

  async getActiveActivations(app, accountId) {
    const now = app.core.now();
    const [active, completed] = await Promise.all([
      app.core.orders(accountId, { status: 'active', limit: ORDER_PAGE.maxLimit }),
      app.core.orders(accountId, { status: 'completed', limit: ORDER_PAGE.maxLimit }),
    ]);
    // Completed orders are still open while a retry is possible, as the family counts them.
    const open = [...active.orders, ...completed.orders.filter((o) => Date.parse(o.expires_at) > now)];
    if (open.length === 0) return { status: 'error', error: 'NO_ACTIVATIONS' };
    const numbers = await app.core.orderNumbers(accountId, open.map((o) => o.order_id));
    return {
      status: 'success',
      activeActivations: open.map((o) => ({
        activationId: String(numbers.get(o.order_id)),
        serviceCode: serviceCodeOf(o.platform) ?? o.platform,
        phoneNumber: bare(o.phone),
        activationCost: String(o.price),
        activationStatus: o.status === 'completed' ? '6' : o.codes.length > 0 ? '3' : '4',
        smsCode: o.codes.length > 0 ? o.codes : null,
        smsText: o.sms,
        activationTime: stamp(o.created_at),
        discount: '0.00',
        repeated: o.codes.length > 1 ? '1' : '0',
        countryCode: String(countryIdOf(o.country) ?? ''),
        countryName: countryName(o.country) ?? o.country,
        canGetAnotherSms: '1',
        currency: USD,
      })),
    };
  },
};

const oneOf = (values: string[], description: string) => Type.Unsafe<string>({ type: 'string', enum: values, description });

/** The parameters of the actions, as they come (query or form fields: text). Unknown ones are ignored. */
const Parameters = Type.Object(
  {
    action: Type.Optional(oneOf(Object.keys(ACTIONS), 'another answers BAD_ACTION')),
    service: Type.Optional(Type.String({ description: "the family's service code (ig, wa, tg, …; getServicesList) or a platform id" })),
    country: Type.Optional(Type.String({ description: 'a numeric country id (187 USA, 16 United Kingdom, …; getCountries); none or any: any country' })),
    maxPrice: Type.Optional(Type.String({ description: 'USD; a higher price answers WRONG_MAX_PRICE:<price>' })),
    orderId: Type.Optional(Type.String({ maxLength: IDEMPOTENCY_KEY_MAX, description: 'idempotency key of getNumber and getNumberV2 (as the Idempotency-Key header)' })),
    id: Type.Optional(Type.String({ description: 'the activation id (getStatus, getStatusV2, setStatus)' })),
    status: Type.Optional(oneOf(['1', '3', '6', '8'], 'setStatus: 1 ready, 3 another code, 6 finish, 8 cancel; another answers BAD_STATUS')),
    operator: Type.Optional(Type.String({ description: 'ignored' })),
  },
  { additionalProperties: true },
);
const FormFields = Type.Object({ ...Parameters.properties, api_key: Type.Optional(Type.String({ description: 'the API key, when neither a header nor the query carries it' })) }, { additionalProperties: true });

/** Every answer, refusals included, is a 200: a token, or the action's JSON. */
const Answer = {
  description: 'A token (ACCESS_…, STATUS_…, or a refusal: BAD_KEY, NO_BALANCE, NO_NUMBERS, BAD_SERVICE, BAD_ACTION, BAD_STATUS, …), or JSON for the …V2 and list actions',
  headers: { 'Retry-After': Type.Integer({ minimum: 1, description: 'with TOO_MANY_REQUESTS: seconds until a retry may pass' }) },
  content: {
    'text/plain': { schema: Type.String({ pattern: '^[A-Z][A-Z0-9_]*(:.*)?$' }) },
    'application/json': { schema: Type.Object({}, { additionalProperties: true }) },
  },
};

function send(reply: FastifyReply, answer: string | object): FastifyReply {
  if (typeof answer === 'string') return reply.code(200).type('text/plain; charset=utf-8').send(answer);
  return reply.code(200).type('application/json; charset=utf-8').send(JSON.stringify(answer));
}

export const smsActivateRoutes: FastifyPluginAsync = async (app) => {
  app.addContentTypeParser('multipart/form-data', { parseAs: 'string' }, (request, body, done) => {
    const parsed = parseMultipart(String(body), String(request.headers['content-type'] ?? ''));
    if (parsed) done(null, parsed);
    else done(new TnError('invalid_request', 'The multipart body has no boundary.'));
  });

  // Query and body parameters together, before the server's key, rate-limit and auth hook reads `api_key` from the body.
  app.addHook('preValidation', async (request) => {
    request.body = paramsOf(request);
  });

  // Every failure, the server's own (a bad key, a rate limit, a body too large) included, in the protocol's words.
  app.setErrorHandler((err: FastifyError | TnError | ProtocolAnswer, request, reply) => {
    const token = protocolToken(err instanceof ProtocolAnswer ? err : toTnError(err, request));
    if (token === 'ERROR_SQL') request.log.error({ err }, 'sms-activate handler');
    if (err instanceof TnError && err.code === 'rate_limited') reply.header('retry-after', String(err.details.retry_after ?? 1));
    return send(reply, token);
  });

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply> => {
    const params = request.body as Params;
    const action = params.action?.trim() ?? '';
    const run = Object.hasOwn(ACTIONS, action) ? ACTIONS[action]! : undefined;
    if (!run) return send(reply, 'BAD_ACTION');
    return send(reply, await run(app, request.accountId, params, request));
  };

  const schema = {
    summary: 'The sms-activate handler_api.php protocol (api_key and action, as query or form parameters); plain-text or JSON answers, always 200',
    security: KEY_OR_QUERY_KEY,
    tags: ['sms-activate'],
    response: { 200: Answer },
  };
  const inQuery = { querystring: Parameters };
  app.get(HANDLER_PATH, { config: AUTH, schema: { ...schema, readByHand: inQuery } }, handler);
  // The body's fields win over the query's.
  app.post(HANDLER_PATH, { config: AUTH, schema: { ...schema, readByHand: { ...inQuery, body: FormFields, consumes: ['application/x-www-form-urlencoded', 'multipart/form-data'] } } }, handler);
};
