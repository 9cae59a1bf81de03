import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { afterEach } from 'vitest';
import { openCoreOnFile } from '../../src/client/embedded.js';
import type { BrokerCore } from '../../src/core/broker-core.js';
import type { SimulatorOptions } from '../../src/providers/simulator.js';
import { buildApp, type AppOptions } from '../../src/server/app.js';

/** An app on a core on a fresh SQLite file. */
export interface TestApp {
  app: FastifyInstance;
  core: BrokerCore;
  file: string;
  /** `http://127.0.0.1:PORT` once `listen()` was called. */
  url: string;
  /** Listens on a free port of 127.0.0.1 and returns the base URL. */
  listen(): Promise<string>;
  /** Closes the app, then the core, then removes the directory. Idempotent. */
  close(): Promise<void>;
}

export interface TestAppOptions extends Partial<Omit<AppOptions, 'core'>> {
  simulator?: SimulatorOptions;
}

const open = new Set<TestApp>();

// Each test closes what it opened (the app first: its scheduler still uses the core).
afterEach(async () => {
  for (const t of [...open]) await t.close();
});

/**
 * Builds the app of `src/server/app.ts` on a new database. Closed after the test unless `keep`
 * is set (for apps shared by a `describe` through beforeAll/afterAll).
 */
export async function makeApp(options: TestAppOptions = {}, keep = false): Promise<TestApp> {
  const dir = mkdtempSync(join(tmpdir(), 'tn-server-'));
  const file = join(dir, 'tn.db');
  const { simulator, ...appOptions } = options;
  const core = openCoreOnFile(file, { simulator: { delayMs: 20, ...simulator } });
  const app = await buildApp({ version: 'test', logger: false, ...appOptions, core });
  let closed = false;
  const t: TestApp = {
    app,
    core,
    file,
    url: '',
    async listen() {
      await app.listen({ host: '127.0.0.1', port: 0 });
      const address = app.server.address();
      if (typeof address !== 'object' || address === null) throw new Error('no address');
      t.url = `http://127.0.0.1:${address.port}`;
      return t.url;
    },
    async close() {
      if (closed) return;
      closed = true;
      open.delete(t);
      await app.close();
      await core.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  if (!keep) open.add(t);
  return t;
}

export const API = '/api/v1';
export const USD = 1_000_000;

/** Status → the `error.code` values API.md §4 allows for it. */
export const ERROR_CODES: Readonly<Record<number, readonly string[]>> = {
  400: ['invalid_request', 'unknown_platform', 'unknown_country', 'batch_too_large'],
  401: ['unauthorized'],
  402: ['insufficient_balance', 'price_above_max'],
  // Not in API.md §4: the inbound endpoint of issue 7 refuses a gateway whose signature fails.
  403: ['forbidden'],
  404: ['not_found'],
  409: ['order_not_active'],
  413: ['payload_too_large'],
  422: ['idempotency_key_reused'],
  429: ['rate_limited'],
  503: ['no_numbers', 'unavailable'],
};

/**
 * What is wrong with an error answer, measured against API.md §4: exactly
 * `{ error: { code, message, status, ...details } }`, `status` equal to the HTTP status, a code
 * that the table allows for that status, no stack trace. Empty when it is right.
 */
export function errorProblems(httpStatus: number, rawBody: string): string[] {
  let body: unknown;
  try {
    body = JSON.parse(rawBody);
  } catch {
    return [`body is not JSON: ${rawBody.slice(0, 200)}`];
  }
  if (typeof body !== 'object' || body === null || Array.isArray(body)) return [`body is not an object: ${rawBody.slice(0, 200)}`];
  const problems: string[] = [];
  const keys = Object.keys(body);
  if (keys.length !== 1 || keys[0] !== 'error') problems.push(`top-level keys are ${JSON.stringify(keys)}, expected ["error"]`);
  const error = (body as { error?: unknown }).error;
  if (typeof error !== 'object' || error === null) return [...problems, `no error object: ${rawBody.slice(0, 200)}`];
  const { code, message, status } = error as Record<string, unknown>;
  if (typeof code !== 'string') problems.push(`error.code is ${JSON.stringify(code)}`);
  else if (!(ERROR_CODES[httpStatus] ?? []).includes(code)) problems.push(`error.code "${code}" is not one of API.md §4 for HTTP ${httpStatus}`);
  if (typeof message !== 'string' || message === '') problems.push(`error.message is ${JSON.stringify(message)}`);
  else if (/\n\s+at\s/.test(message)) problems.push('error.message carries a stack trace');
  if (status !== httpStatus) problems.push(`error.status is ${JSON.stringify(status)} but the HTTP status is ${httpStatus}`);
  return problems;
}

/** The parts of the state that no refused request may change. */
export async function stateOf(core: BrokerCore, accountIds: readonly string[]): Promise<unknown> {
  const audit = await core.audit();
  const accounts = [];
  for (const id of accountIds) {
    const a = await core.account(id);
    const hook = await core.webhook(id);
    accounts.push({
      balance: a.balance,
      stats: a.stats,
      webhook: a.webhook,
      secret: hook.secret,
      recent: a.recent_orders.map((o) => [o.order_id, o.status, o.refunded, o.codes.length, o.expires_at]),
    });
  }
  return { audit, accounts };
}

/** Writes raw bytes to a real socket and returns what came back before the server closed it (or `waitMs` passed). */
export function rawHttp(port: number, text: string, waitMs = 1000): Promise<{ status: number; headers: Record<string, string>; body: string; raw: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => socket.write(text));
    let raw = '';
    socket.setEncoding('utf8').on('data', (d: string) => (raw += d));
    const timer = setTimeout(() => socket.destroy(), waitMs);
    socket.on('error', reject);
    socket.on('close', () => {
      clearTimeout(timer);
      const [head = '', ...rest] = raw.split('\r\n\r\n');
      const [statusLine = '', ...lines] = head.split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const at = line.indexOf(':');
        if (at > 0) headers[line.slice(0, at).trim().toLowerCase()] = line.slice(at + 1).trim();
      }
      resolve({ status: Number(/^HTTP\/1\.[01] (\d{3})/.exec(statusLine)?.[1] ?? 0), headers, body: rest.join('\r\n\r\n'), raw });
    });
  });
}
