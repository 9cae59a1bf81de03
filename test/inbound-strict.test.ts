import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../src/core/orders/order.js';
import { androidSignature, jwtHs256, unixSeconds } from './support/gateways.js';
import { cleanEnv, killLeftovers, runTn, startServe, type ServeProcess, stopServe } from './support/process.js';

// Issue 20: what the inbound endpoint of a real `tn serve` (the compiled dist/: `npm run build`
// first) refuses: a message whose own time is implausible (§2), an httpSMS token that never
// expires or lives longer than httpSMS makes them (§5).

const API = '/api/v1';
const DAY = 86_400_000;
const ANDROID_KEY = 'strict-android-key';
const HTTPSMS_KEY = 'strict-httpsms-key';
const DEVICE = 'strictpixel';

interface Gateway {
  kind: string;
  name: string;
  phone: string;
  addFlags: string[];
  poolFlags: string[];
  /** What the test orders: the only source whose pool serves it there. */
  order: { platform: string; country: string };
  /** A correctly authenticated post of an SMS carrying `code`, received by the gateway at `at` (ms). */
  post(code: string, at: number): { headers: Record<string, string>; body: string };
  /** Where the format carries the message's time, as the refusal names it. */
  field: string;
}

const text = (code: string): string => `Your verification code is ${code}. Do not share it.`;
const claims = (now = Date.now()): Record<string, unknown> => ({ iss: 'api.httpsms.com', sub: 'user', iat: unixSeconds(now), nbf: unixSeconds(now) - 600, exp: unixSeconds(now) + 600 });

let token = '';
let counter = 0;
const GATEWAYS: Gateway[] = [
  {
    kind: 'generic',
    name: 'script',
    phone: '+15550100601',
    addFlags: [],
    poolFlags: ['--country', 'us', '--platforms', 'instagram'],
    order: { platform: 'instagram', country: 'us' },
    field: 'received_at',
    post: (code, at) => ({
      headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      body: JSON.stringify({ to: '+15550100601', from: 'Verify', text: text(code), received_at: new Date(at).toISOString(), id: `g${++counter}` }),
    }),
  },
  {
    kind: 'android-gateway',
    name: 'pixel',
    phone: '+447700900601',
    addFlags: ['--signing-key', ANDROID_KEY],
    poolFlags: ['--country', 'gb', '--device', DEVICE, '--sim', '1'],
    order: { platform: 'instagram', country: 'gb' },
    field: 'payload.receivedAt',
    post: (code, at) => {
      const id = `a${++counter}`;
      const body = JSON.stringify({ deviceId: DEVICE, event: 'sms:received', id, payload: { messageId: id, message: text(code), phoneNumber: 'Verify', simNumber: 1, receivedAt: new Date(at).toISOString() } });
      // The request itself is fresh (X-Timestamp now): only the message's own time is old.
      const timestamp = String(unixSeconds());
      return { headers: { 'content-type': 'application/json', 'x-signature': androidSignature(body, timestamp, ANDROID_KEY), 'x-timestamp': timestamp }, body };
    },
  },
  {
    kind: 'httpsms',
    name: 'lab',
    phone: '+15550100602',
    addFlags: ['--signing-key', HTTPSMS_KEY],
    poolFlags: ['--country', 'us', '--platforms', 'whatsapp,telegram'],
    order: { platform: 'whatsapp', country: 'us' },
    field: 'data.timestamp',
    post: (code, at) => {
      const id = `h${++counter}`;
      const event = {
        specversion: '1.0',
        id,
        source: '/v1/messages/receive',
        type: 'message.phone.received',
        time: new Date().toISOString(),
        datacontenttype: 'application/json',
        data: { contact: '+15550100699', content: text(code), owner: '+15550100602', sim: 'SIM1', timestamp: new Date(at).toISOString(), message_id: id },
      };
      return { headers: { 'content-type': 'application/json', authorization: `Bearer ${jwtHs256(claims(), HTTPSMS_KEY)}` }, body: JSON.stringify(event) };
    },
  },
];

let dir: string;
let server: ServeProcess;
let key: string;

async function tn(env: NodeJS.ProcessEnv, file: string, args: string[]): Promise<Record<string, unknown>> {
  const res = await runTn([...args, '--db', file, '--json'], env);
  expect(res.code, `tn ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as Record<string, unknown>;
}

async function api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
  const res = await fetch(`${server.url}${API}${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as T };
}

async function send(g: Gateway, req: { headers: Record<string, string>; body: string }): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${server.url}${API}/inbound/${g.name}`, { method: 'POST', headers: req.headers, body: req.body });
  return { status: res.status, body: JSON.parse(await res.text()) as unknown };
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'tn-strict-'));
  const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
  const file = join(dir, 'tn.db');
  for (const g of GATEWAYS) {
    const added = await tn(env, file, ['admin', 'source', 'add', g.kind, '--name', g.name, ...g.addFlags]);
    if (g.kind === 'generic') token = added.token as string;
    await tn(env, file, ['admin', 'pool', 'add', g.phone, '--source', g.name, ...g.poolFlags]);
  }
  server = await startServe(['--port', '0', '--db', file, '--rate-limit', '0'], env);
  const registered = await fetch(`${server.url}${API}/register`, { method: 'POST' });
  key = ((await registered.json()) as { api_key: string }).api_key;
  await tn(env, file, ['admin', 'credit', key, '10']);
}, 60_000);

afterAll(async () => {
  if (server) await stopServe(server);
  await killLeftovers();
  rmSync(dir, { recursive: true, force: true });
});

describe.each(GATEWAYS)('inbound $kind: a message with an implausible time of its own', (g) => {
  it('is refused with 400 invalid_request naming the time, and completes no order; a message received now still does', async () => {
    const { status, body: order } = await api<Order>('POST', '/order', g.order);
    expect(status, JSON.stringify(order)).toBe(201);
    expect(order.phone).toBe(g.phone);

    // More than 30 days old: taking it as arriving now would make it the code of this newer order.
    const old = await send(g, g.post('111111', Date.now() - 31 * DAY));
    expect(old.status).toBe(400);
    expect(old.body).toEqual({
      error: { code: 'invalid_request', status: 400, message: expect.stringMatching(new RegExp(`${g.field.replace('.', '\\.')} \\S+ is more than 30 days old`)) },
    });
    // Ahead of the server's clock by more than the skew allowed.
    const ahead = await send(g, g.post('222222', Date.now() + 60 * 60_000));
    expect(ahead).toMatchObject({ status: 400, body: { error: { code: 'invalid_request', message: expect.stringContaining(`${g.field} `) } } });
    expect(ahead.body).toMatchObject({ error: { message: expect.stringMatching(/is in the future$/) } });
    expect((await api<Order>('GET', `/order/${order.order_id}`)).body).toMatchObject({ status: 'active', code: null, codes: [] });

    // An hour before the order: a plausible time, so the message is kept, but it is not this order's code.
    expect((await send(g, g.post('333333', Date.now() - 3_600_000))).status).toBe(200);
    expect((await api<Order>('GET', `/order/${order.order_id}`)).body).toMatchObject({ status: 'active', code: null });

    expect((await send(g, g.post('444444', Date.now()))).status).toBe(200);
    expect((await api<Order>('GET', `/order/${order.order_id}`)).body).toMatchObject({ status: 'completed', code: '444444', codes: ['444444'] });
  });
});

describe('inbound httpsms: a correctly signed JWT that accepts too much', () => {
  const lab = GATEWAYS.find((g) => g.kind === 'httpsms')!;
  const withToken = (jwt: string): { headers: Record<string, string>; body: string } => {
    const req = lab.post('555555', Date.now());
    return { ...req, headers: { ...req.headers, authorization: `Bearer ${jwt}` } };
  };

  it('is refused with 403 forbidden without exp, or with a lifetime over 10 minutes, and completes no order', async () => {
    const { body: order } = await api<Order>('POST', '/order', { platform: 'telegram', country: 'us' });
    expect(order.phone).toBe(lab.phone);
    const { exp: _exp, ...noExp } = claims();
    const now = unixSeconds();
    for (const jwt of [
      jwtHs256(noExp, HTTPSMS_KEY),
      jwtHs256({ ...claims(), exp: now + 3600 }, HTTPSMS_KEY),
      jwtHs256({ ...claims(), iat: now - 86_400, exp: now + 300 }, HTTPSMS_KEY),
    ]) {
      expect(await send(lab, withToken(jwt))).toEqual({ status: 403, body: { error: { code: 'forbidden', status: 403, message: expect.any(String) } } });
    }
    expect((await api<Order>('GET', `/order/${order.order_id}`)).body).toMatchObject({ status: 'active', code: null });
    // What httpSMS itself sends is accepted.
    expect((await send(lab, withToken(jwtHs256(claims(), HTTPSMS_KEY)))).status).toBe(200);
    expect((await api<Order>('GET', `/order/${order.order_id}`)).body).toMatchObject({ status: 'completed', code: '555555' });
  });
});
