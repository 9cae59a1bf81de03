/**
 * A fake provider of the sms-activate family for the tests: a plain `node:http` server answering
 * `handler_api.php` as the protocol's documentation describes, and nothing more. Where the
 * documentation leaves a choice open it is marked **Assumption**.
 *
 * Documented behaviour it follows:
 * - `GET` or `POST /stubs/handler_api.php` with `api_key` and `action` (query or form); answers
 *   are plain text with HTTP 200, JSON for the V2 actions and the lists. A wrong key is `BAD_KEY`,
 *   an unknown action `BAD_ACTION`.
 * - `getBalance` → `ACCESS_BALANCE:<usd>`. `getPrices` (`service`?, `country`?) →
 *   `{ "<country id>": { "<service>": { cost, count } } }`.
 * - `getNumber` (`service`, `country`, `maxPrice`?) → `ACCESS_NUMBER:<id>:<number>`, and
 *   `getNumberV2` → `{ activationId, phoneNumber, activationCost, currency, countryCode,
 *   canGetAnotherSms, activationTime, activationOperator }`; refusals `NO_NUMBERS` (none in
 *   stock), `NO_BALANCE`, `BAD_SERVICE`, `WRONG_MAX_PRICE:<price>` (the price is above `maxPrice`).
 *   The price is taken from the balance at once.
 * - `getStatus` (`id`) → `STATUS_WAIT_CODE`, `STATUS_WAIT_RETRY:<last code>`, `STATUS_OK:<code>`,
 *   `STATUS_CANCEL`; `getStatusV2` → `{ verificationType, sms: { dateTime, code, text }, call }`.
 *   An id not of this key is `NO_ACTIVATION`.
 * - `setStatus` (`id`, `status`): `1` → `ACCESS_READY`; `3` (another code, after one came) →
 *   `ACCESS_RETRY_GET`; `6` (finish, after a code) → `ACCESS_ACTIVATION`; `8` (cancel) →
 *   `ACCESS_CANCEL` with the price refunded, refused with `EARLY_CANCEL_DENIED` within the first
 *   minutes of the purchase (`earlyCancelMs`), and with `BAD_STATUS` once a code came (the price
 *   is kept). Anything else is `BAD_STATUS`.
 * - An activation lives 20 minutes: then, without a code it is cancelled and refunded; with one,
 *   finished. **Assumption**: settled lazily, at the start of each request.
 *
 * Time comes from the injectable `now`; nothing runs on timers. Money is integer micro-USD inside.
 * Every fake started in a test is closed after that test.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

export interface FakeSmsActivateOptions {
  /** Default `'smsa-test-key-0123456789'`. */
  apiKey?: string;
  /** USD. Default 50. */
  balance?: number;
  /** Service code → country id → { cost (USD), count }. Default ig and wa in 187 and 16. */
  prices?: Record<string, Record<string, { cost: number; count: number }>>;
  /** How long after a purchase a cancel is refused with EARLY_CANCEL_DENIED. Default 0. */
  earlyCancelMs?: number;
  /** Answer the V2 actions with BAD_ACTION, as older copies of the protocol do. */
  noV2?: boolean;
  now?: () => number;
}

export interface FakeSmsActivation {
  id: string;
  service: string;
  country: string;
  /** Digits, without `+`, from fiction ranges. */
  number: string;
  /** Micro-USD. */
  cost: number;
  state: 'wait' | 'ok' | 'retry' | 'cancelled' | 'finished';
  codes: { code: string; text: string; at: number }[];
  createdAt: number;
}

export interface FakeSmsActivate {
  url: string;
  /** The handler URL: `${url}/stubs/handler_api.php`. */
  handlerUrl: string;
  apiKey: string;
  activations: Map<string, FakeSmsActivation>;
  /** Every request, in order: its action and parameters (the key left out). */
  requests: { action: string; params: Record<string, string>; answer: string }[];
  /** USD. */
  balance(): number;
  setBalance(usd: number): void;
  setPrice(service: string, country: string, offer: { cost: number; count: number } | null): void;
  deliver(id: string, text: string, code: string): void;
  /** The next `count` requests of `action` answer `token` instead. */
  failNext(action: string, count: number, token: string): void;
  close(): Promise<void>;
}

const LIFETIME_MS = 20 * 60_000;
const USD = 1_000_000;
const started: FakeSmsActivate[] = [];
afterEach(async () => {
  while (started.length) await started.pop()!.close();
});

const micros = (usd: number): number => Math.round(usd * USD);
const usdText = (m: number): string => (m / USD).toFixed(2);
const stamp = (ms: number): string => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');

export async function startFakeSmsActivate(options: FakeSmsActivateOptions = {}): Promise<FakeSmsActivate> {
  const apiKey = options.apiKey ?? 'smsa-test-key-0123456789';
  const now = options.now ?? Date.now;
  let balance = micros(options.balance ?? 50);
  const prices = new Map<string, { cost: number; count: number }>();
  for (const [service, byCountry] of Object.entries(
    options.prices ?? { ig: { '187': { cost: 0.15, count: 40 }, '16': { cost: 0.2, count: 10 } }, wa: { '187': { cost: 0.3, count: 5 } } },
  )) {
    for (const [country, offer] of Object.entries(byCountry)) prices.set(`${service}/${country}`, { cost: micros(offer.cost), count: offer.count });
  }
  const activations = new Map<string, FakeSmsActivation>();
  const requests: FakeSmsActivate['requests'] = [];
  const failures = new Map<string, { count: number; token: string }>();
  let nextId = 700_000_001;
  let nextLine = 100;

  const settle = (): void => {
    const t = now();
    for (const a of activations.values()) {
      if ((a.state === 'wait' || a.state === 'retry' || a.state === 'ok') && t - a.createdAt >= LIFETIME_MS) {
        if (a.codes.length === 0) {
          a.state = 'cancelled';
          balance += a.cost;
        } else a.state = 'finished';
      }
    }
  };

  const buy = (p: Record<string, string>): FakeSmsActivation | string => {
    const service = p.service ?? '';
    if (![...prices.keys()].some((k) => k.startsWith(`${service}/`))) return 'BAD_SERVICE';
    const offer = prices.get(`${service}/${p.country ?? '0'}`);
    if (!offer || offer.count <= 0) return 'NO_NUMBERS';
    if (p.maxPrice !== undefined && micros(Number(p.maxPrice)) < offer.cost) return `WRONG_MAX_PRICE:${usdText(offer.cost)}`;
    if (balance < offer.cost) return 'NO_BALANCE';
    balance -= offer.cost;
    offer.count -= 1;
    const id = String(nextId++);
    // Fiction ranges only: +1 XXX 555 01NN, +44 7700 900NNN.
    const line = nextLine++;
    const number = p.country === '16' ? `447700900${String(line).padStart(3, '0')}` : `1202555${String(100 + (line % 100)).padStart(4, '0')}`;
    const a: FakeSmsActivation = { id, service, country: p.country ?? '0', number, cost: offer.cost, state: 'wait', codes: [], createdAt: now() };
    activations.set(id, a);
    return a;
  };

  const answer = (p: Record<string, string>): string | object => {
    const action = p.action ?? '';
    const failure = failures.get(action);
    if (failure && failure.count > 0) {
      failure.count -= 1;
      return failure.token;
    }
    const activation = (): FakeSmsActivation | undefined => activations.get(p.id ?? '');
    switch (action) {
      case 'getBalance':
        return `ACCESS_BALANCE:${usdText(balance)}`;
      case 'getPrices': {
        const out: Record<string, Record<string, { cost: number; count: number }>> = {};
        for (const [key, offer] of prices) {
          const [service, country] = key.split('/') as [string, string];
          if (p.service !== undefined && p.service !== service) continue;
          if (p.country !== undefined && p.country !== country) continue;
          (out[country] ??= {})[service] = { cost: offer.cost / USD, count: offer.count };
        }
        return out;
      }
      case 'getNumber': {
        const a = buy(p);
        return typeof a === 'string' ? a : `ACCESS_NUMBER:${a.id}:${a.number}`;
      }
      case 'getNumberV2': {
        if (options.noV2) return 'BAD_ACTION';
        const a = buy(p);
        if (typeof a === 'string') return a;
        return {
          activationId: Number(a.id),
          phoneNumber: a.number,
          activationCost: usdText(a.cost),
          currency: 840,
          countryCode: a.country,
          canGetAnotherSms: '1',
          activationTime: stamp(a.createdAt),
          activationOperator: 'any',
        };
      }
      case 'getStatus': {
        const a = activation();
        if (!a) return 'NO_ACTIVATION';
        const last = a.codes.at(-1)?.code;
        if (a.state === 'cancelled') return 'STATUS_CANCEL';
        if (a.state === 'retry') return `STATUS_WAIT_RETRY:${last ?? ''}`;
        return last === undefined ? 'STATUS_WAIT_CODE' : `STATUS_OK:${last}`;
      }
      case 'getStatusV2': {
        if (options.noV2) return 'BAD_ACTION';
        const a = activation();
        if (!a) return 'NO_ACTIVATION';
        if (a.state === 'cancelled') return 'STATUS_CANCEL';
        const last = a.codes.at(-1);
        return { verificationType: 0, sms: last ? { dateTime: stamp(last.at), code: last.code, text: last.text } : null, call: null };
      }
      case 'setStatus': {
        const a = activation();
        if (!a) return 'NO_ACTIVATION';
        const live = a.state === 'wait' || a.state === 'ok' || a.state === 'retry';
        switch (p.status) {
          case '1':
            return live ? 'ACCESS_READY' : 'BAD_STATUS';
          case '3':
            if (a.state !== 'ok') return 'BAD_STATUS';
            a.state = 'retry';
            return 'ACCESS_RETRY_GET';
          case '6':
            if (!live || a.codes.length === 0) return 'BAD_STATUS';
            a.state = 'finished';
            return 'ACCESS_ACTIVATION';
          case '8':
            if (!live || a.codes.length > 0) return 'BAD_STATUS';
            if (now() - a.createdAt < (options.earlyCancelMs ?? 0)) return 'EARLY_CANCEL_DENIED';
            a.state = 'cancelled';
            balance += a.cost;
            return 'ACCESS_CANCEL';
          default:
            return 'BAD_STATUS';
        }
      }
      default:
        return 'BAD_ACTION';
    }
  };

  const server: Server = createServer((req: IncomingMessage, res: ServerResponse) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (d: string) => (body += d));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://fake');
      if (url.pathname !== '/stubs/handler_api.php') {
        res.writeHead(404).end('Not Found');
        return;
      }
      const params: Record<string, string> = Object.fromEntries(url.searchParams);
      if (req.method === 'POST') Object.assign(params, Object.fromEntries(new URLSearchParams(body)));
      settle();
      const { api_key: key, ...rest } = params;
      const out = key !== apiKey ? 'BAD_KEY' : answer(params);
      const text = typeof out === 'string' ? out : JSON.stringify(out);
      requests.push({ action: params.action ?? '', params: rest, answer: text });
      res.writeHead(200, { 'content-type': typeof out === 'string' ? 'text/plain; charset=utf-8' : 'application/json' }).end(text);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const fake: FakeSmsActivate = {
    url,
    handlerUrl: `${url}/stubs/handler_api.php`,
    apiKey,
    activations,
    requests,
    balance: () => balance / USD,
    setBalance: (usd) => {
      balance = micros(usd);
    },
    setPrice: (service, country, offer) => {
      if (offer === null) prices.delete(`${service}/${country}`);
      else prices.set(`${service}/${country}`, { cost: micros(offer.cost), count: offer.count });
    },
    deliver: (id, text, code) => {
      const a = activations.get(id);
      if (!a || !(a.state === 'wait' || a.state === 'retry')) throw new Error(`activation ${id} waits for no SMS`);
      a.codes.push({ code, text, at: now() });
      a.state = 'ok';
    },
    failNext: (action, count, token) => {
      failures.set(action, { count, token });
    },
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
  started.push(fake);
  return fake;
}
