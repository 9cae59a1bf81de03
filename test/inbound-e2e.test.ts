import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Order } from '../src/core/orders/order.js';
import type { InboundKind } from '../src/providers/inbound.js';
import { androidSignature, jwtHs256, twilioSignature, unixSeconds } from './support/gateways.js';
import { cleanEnv, killLeftovers, runTn, startServe, until, requireBuild, type ServeProcess } from './support/process.js';

// Issue 7 end to end: the operator configures a gateway source and its pool numbers with the CLI,
// a real `tn serve` (the compiled dist/: `npm run build` first) receives the gateway's signed
// webhooks, and a customer's waiting verify gets the code. One server per format.

const API = '/api/v1';
const PUBLIC_URL = 'https://tn.example.com';
const TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
const JSON_OK = { type: 'application/json', body: '{"ok":true}' };
/** Platforms with 6-digit codes, each ordered at most once per server (a pool number is held per platform). */
const PLATFORMS = ['whatsapp', 'facebook', 'twitter', 'discord', 'tiktok', 'snapchat', 'amazon', 'microsoft', 'netflix', 'airbnb', 'linkedin'];

beforeAll(requireBuild);
afterAll(killLeftovers);

// ── the formats ────────────────────────────────────────────────────────────

interface PoolNumber {
  phone: string;
  device?: string;
  sim?: number;
}

/** One SMS as a gateway hands it over: `to` is a pool number in E.164. */
interface Sms {
  id: string;
  to: string;
  from: string;
  text: string;
}

/** What a gateway sends to the source's inbound URL. */
interface GatewayRequest {
  method: 'GET' | 'POST';
  query?: string;
  headers: Record<string, string>;
  body?: string;
}

/** What the request builders know of the configured source. */
interface Source {
  secret: string;
  numbers: readonly PoolNumber[];
  /** The inbound URL the gateway is configured with (under --public-url): what Twilio signs. */
  url: string;
  /** The URL the test actually reaches the server at. */
  localUrl: string;
}

type Build = (sms: Sms, source: Source) => GatewayRequest;

interface Format {
  kind: InboundKind;
  name: string;
  country: string;
  /** Two numbers: orders use either; the unmatched-inbox test sends to both when no order is active. */
  numbers: PoolNumber[];
  /** The flag carrying the secret to `tn admin source add`, and its value; none: the CLI makes a token (generic). */
  secret?: [flag: string, value: string];
  /** The sender as the gateway writes it, and as the inbox keeps it. */
  sender: { raw: string; stored: string };
  /** A receiving number outside the pool as the gateway writes it, and what the inbox shows for it. */
  stranger: { to: string; stored: string | null };
  reply: { type: string; body: string };
  deliver: Build;
  /** Requests refused with 403 before anything in them is read. */
  forged: Record<string, Build>;
  /** Authenticated requests whose body cannot be read: 400. */
  malformed: Record<string, Build>;
}

const form = (params: Record<string, string>): string => new URLSearchParams(params).toString();
const FORM = 'application/x-www-form-urlencoded';
const jsonPost = (body: unknown, headers: Record<string, string> = {}): GatewayRequest => ({
  method: 'POST',
  headers: { 'content-type': 'application/json', ...headers },
  body: typeof body === 'string' ? body : JSON.stringify(body),
});

// Twilio: a form post signed over --public-url + path.
const TWILIO_TOKEN = 'twilio-auth-token-0123456789abcdef';
const twilioParams = (sms: Sms): Record<string, string> => ({
  MessageSid: sms.id,
  AccountSid: 'AC0123456789abcdef0123456789abcdef',
  From: sms.from,
  To: sms.to,
  Body: sms.text,
  NumMedia: '0',
});
const twilioPost = (params: Record<string, string>, signature: string): GatewayRequest => ({
  method: 'POST',
  headers: { 'content-type': FORM, 'x-twilio-signature': signature },
  body: form(params),
});
const twilioSigned = (params: Record<string, string>, source: Source): GatewayRequest => twilioPost(params, twilioSignature(source.url, params, source.secret));

// SMS Gateway for Android: JSON naming the device and SIM slot, X-Signature over body + X-Timestamp.
const ANDROID_KEY = 'android-signing-key-42';
const DEVICE = 'ffZ3k9pixel';
const androidBody = (sms: Sms, source: Source): string => {
  const slot = source.numbers.find((n) => n.phone === sms.to);
  return JSON.stringify({
    deviceId: slot?.device ?? 'unregistered-phone',
    event: 'sms:received',
    id: `evt-${sms.id}`,
    webhookId: 'wh-inbound-e2e',
    payload: { messageId: sms.id, message: sms.text, phoneNumber: sms.from, simNumber: slot?.sim ?? 1, receivedAt: new Date().toISOString() },
  });
};
const androidPost = (body: string, key: string, at: number = Date.now(), timestamp = String(unixSeconds(at))): GatewayRequest =>
  jsonPost(body, { 'x-signature': androidSignature(body, timestamp, key), 'x-timestamp': timestamp });

// httpSMS: a CloudEvent with an HS256 JWT as bearer token.
const HTTPSMS_KEY = 'httpsms-signing-key-77';
const httpSmsEvent = (sms: Sms): Record<string, unknown> => ({
  specversion: '1.0',
  id: `evt-${sms.id}`,
  source: '/v1/messages/receive',
  type: 'message.phone.received',
  time: new Date().toISOString(),
  datacontenttype: 'application/json',
  data: { contact: sms.from, content: sms.text, owner: sms.to, sim: 'SIM1', timestamp: new Date().toISOString(), message_id: sms.id },
});
const claims = (now: number, over: Record<string, unknown> = {}): Record<string, unknown> => ({
  iss: 'api.httpsms.com',
  sub: 'user-e2e',
  iat: unixSeconds(now),
  nbf: unixSeconds(now),
  exp: unixSeconds(now) + 600,
  ...over,
});
const httpSmsPost = (event: unknown, jwt: string): GatewayRequest => jsonPost(event, { authorization: `Bearer ${jwt}` });

// Jasmin: the token in the URL's query, the fields as a form post (or in the query, with GET).
const JASMIN_TOKEN = 'jasmin-token-5551';
const jasminFields = (sms: Sms): Record<string, string> => ({
  id: sms.id,
  from: sms.from,
  to: sms.to,
  'origin-connector': 'smpp_e2e',
  priority: '0',
  coding: '0',
  validity: '',
  content: sms.text,
  binary: Buffer.from(sms.text, 'utf8').toString('hex'),
});
const jasminPost = (fields: Record<string, string>, query: string): GatewayRequest => ({ method: 'POST', query, headers: { 'content-type': FORM }, body: form(fields) });

const FORMATS: Format[] = [
  {
    kind: 'twilio',
    name: 'tw',
    country: 'gb',
    numbers: [{ phone: '+447700900101' }, { phone: '+447700900102' }],
    secret: ['--auth-token', TWILIO_TOKEN],
    sender: { raw: '+44 7700 900001', stored: '+447700900001' },
    stranger: { to: '+44 7700 900199', stored: '+447700900199' },
    reply: { type: 'text/xml', body: TWIML },
    deliver: (sms, source) => twilioSigned(twilioParams(sms), source),
    forged: {
      'a signature made with another auth token': (sms, source) => twilioPost(twilioParams(sms), twilioSignature(source.url, twilioParams(sms), 'another-auth-token-000')),
      'a signature over the local URL when --public-url is set': (sms, source) =>
        twilioPost(twilioParams(sms), twilioSignature(source.localUrl, twilioParams(sms), source.secret)),
      'a body whose code was changed after signing': (sms, source) =>
        twilioPost({ ...twilioParams(sms), Body: 'Your verification code is 999999' }, twilioSignature(source.url, twilioParams(sms), source.secret)),
      'no X-Twilio-Signature': (sms) => ({ method: 'POST', headers: { 'content-type': FORM }, body: form(twilioParams(sms)) }),
    },
    malformed: {
      'a signed form without To': (sms, source) => {
        const { To: _to, ...params } = twilioParams(sms);
        return twilioSigned(params, source);
      },
      'a signed form whose To is not a number': (sms, source) => twilioSigned({ ...twilioParams(sms), To: 'the office phone' }, source),
    },
  },
  {
    kind: 'android-gateway',
    name: 'pixel',
    country: 'gb',
    numbers: [
      { phone: '+447700900201', device: DEVICE, sim: 1 },
      { phone: '+447700900202', device: DEVICE, sim: 2 },
    ],
    secret: ['--signing-key', ANDROID_KEY],
    // An alphanumeric sender that names no platform: orders here are for several platforms.
    sender: { raw: 'Verify', stored: 'Verify' },
    // A device that is not in the pool: the receiving number is unknown.
    stranger: { to: '+447700900299', stored: null },
    reply: JSON_OK,
    deliver: (sms, source) => androidPost(androidBody(sms, source), source.secret),
    forged: {
      'a signature made with another key': (sms, source) => androidPost(androidBody(sms, source), 'another-signing-key'),
      'a correctly signed but stale X-Timestamp (6 minutes old)': (sms, source) => androidPost(androidBody(sms, source), source.secret, Date.now() - 6 * 60_000),
      'a correctly signed X-Timestamp 6 minutes ahead': (sms, source) => androidPost(androidBody(sms, source), source.secret, Date.now() + 6 * 60_000),
      'an X-Timestamp changed after signing': (sms, source) => {
        const signed = androidPost(androidBody(sms, source), source.secret, Date.now() - 10_000);
        return { ...signed, headers: { ...signed.headers, 'x-timestamp': String(unixSeconds()) } };
      },
    },
    malformed: {
      'a signed body that is not JSON': (_sms, source) => androidPost('sms:received from Instagram', source.secret),
      'a signed event without a payload': (_sms, source) => androidPost(JSON.stringify({ deviceId: DEVICE, event: 'sms:received', id: 'evt-no-payload' }), source.secret),
    },
  },
  {
    kind: 'httpsms',
    name: 'lab',
    country: 'us',
    numbers: [{ phone: '+15550100301' }, { phone: '+15550100302' }],
    secret: ['--signing-key', HTTPSMS_KEY],
    sender: { raw: '+1 (555) 010-0399', stored: '+15550100399' },
    stranger: { to: '+1 555 010 0398', stored: '+15550100398' },
    reply: JSON_OK,
    deliver: (sms, source) => httpSmsPost(httpSmsEvent(sms), jwtHs256(claims(Date.now()), source.secret)),
    forged: {
      'a JWT signed with another key': (sms) => httpSmsPost(httpSmsEvent(sms), jwtHs256(claims(Date.now()), 'another-signing-key')),
      'a correctly signed but expired JWT': (sms, source) =>
        httpSmsPost(httpSmsEvent(sms), jwtHs256(claims(Date.now() - 3_600_000), source.secret)),
      'a correctly signed JWT not valid before an hour from now': (sms, source) =>
        httpSmsPost(httpSmsEvent(sms), jwtHs256(claims(Date.now(), { nbf: unixSeconds() + 3600 }), source.secret)),
      'a JWT whose claims were changed after signing': (sms, source) => {
        const [head, , signature] = jwtHs256(claims(Date.now() - 3_600_000), source.secret).split('.');
        const fresh = Buffer.from(JSON.stringify(claims(Date.now())), 'utf8').toString('base64url');
        return httpSmsPost(httpSmsEvent(sms), `${head}.${fresh}.${signature}`);
      },
    },
    malformed: {
      'a body that is not JSON': (_sms, source) => httpSmsPost('message.phone.received', jwtHs256(claims(Date.now()), source.secret)),
      'an event without data.owner': (sms, source) => {
        const event = httpSmsEvent(sms);
        const { owner: _owner, ...data } = event.data as Record<string, unknown>;
        return httpSmsPost({ ...event, data }, jwtHs256(claims(Date.now()), source.secret));
      },
    },
  },
  {
    kind: 'jasmin',
    name: 'smsc',
    country: 'gb',
    numbers: [{ phone: '+447700900401' }, { phone: '+447700900402' }],
    secret: ['--token', JASMIN_TOKEN],
    // Jasmin passes numbers on as the SMSC wrote them, often without the +.
    sender: { raw: '447700900002', stored: '+447700900002' },
    stranger: { to: '447700900499', stored: '+447700900499' },
    reply: { type: 'text/plain', body: 'ACK/Jasmin' },
    deliver: (sms, source) => jasminPost(jasminFields(sms), form({ token: source.secret })),
    forged: {
      'a wrong token': (sms) => jasminPost(jasminFields(sms), form({ token: 'jasmin-token-5552' })),
      'no token in the URL (only in the body)': (sms, source) => jasminPost({ ...jasminFields(sms), token: source.secret }, ''),
    },
    malformed: {
      'a form without content': (sms, source) => {
        const { content: _content, binary: _binary, ...fields } = jasminFields(sms);
        return jasminPost(fields, form({ token: source.secret }));
      },
      'a form without to': (sms, source) => {
        const { to: _to, ...fields } = jasminFields(sms);
        return jasminPost(fields, form({ token: source.secret }));
      },
    },
  },
  {
    kind: 'generic',
    name: 'script',
    country: 'us',
    numbers: [{ phone: '+15550100501' }, { phone: '+15550100502' }],
    // An alphanumeric sender that names no platform: orders here are for several platforms.
    sender: { raw: 'Verify', stored: 'Verify' },
    stranger: { to: '+1-555-010-0599', stored: '+15550100599' },
    reply: JSON_OK,
    // `id` is optional in the generic format; with it a repeated post is recognised.
    deliver: (sms, source) =>
      jsonPost({ to: sms.to, from: sms.from, text: sms.text, received_at: new Date().toISOString(), id: sms.id }, { authorization: `Bearer ${source.secret}` }),
    forged: {
      'another bearer token': (sms) => jsonPost({ to: sms.to, from: sms.from, text: sms.text }, { authorization: 'Bearer tng_not-the-token-of-this-source' }),
      'no Authorization header': (sms) => jsonPost({ to: sms.to, from: sms.from, text: sms.text }),
    },
    malformed: {
      'a body without text': (sms, source) => jsonPost({ to: sms.to, from: sms.from }, { authorization: `Bearer ${source.secret}` }),
      'a received_at that is not a time': (sms, source) =>
        jsonPost({ to: sms.to, from: sms.from, text: sms.text, received_at: 'yesterday' }, { authorization: `Bearer ${source.secret}` }),
    },
  },
];

// ── one configured server ──────────────────────────────────────────────────

/** `tn …args --db file --json`, which must succeed: its output, parsed. */
async function tnJson(env: NodeJS.ProcessEnv, file: string, args: readonly string[]): Promise<unknown> {
  const res = await runTn([...args, '--db', file, '--json'], env);
  expect(res.code, `tn ${args.join(' ')}: ${res.stderr}`).toBe(0);
  return JSON.parse(res.stdout) as unknown;
}

interface InboxRow {
  id: number;
  source: string;
  to: string | null;
  from: string;
  device: string | null;
  sim: number | null;
  text: string;
  received_at: string;
  order_id: string | null;
  message_id: string | null;
}

interface Reply {
  status: number;
  type: string;
  body: string;
}

/** A temporary home with a database configured for one format, a `tn serve` on it, and a funded customer. */
class Broker {
  private constructor(
    readonly format: Format,
    readonly dir: string,
    readonly env: NodeJS.ProcessEnv,
    readonly file: string,
    readonly server: ServeProcess,
    readonly source: Source,
    readonly key: string,
  ) {}

  static async start(format: Format, serveFlags: string[] = ['--public-url', PUBLIC_URL]): Promise<Broker> {
    const dir = mkdtempSync(join(tmpdir(), 'tn-inbound-'));
    const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
    const file = join(dir, 'tn.db');
    const tn = (...args: string[]): Promise<unknown> => tnJson(env, file, args);

    const added = (await tn('admin', 'source', 'add', format.kind, '--name', format.name, ...(format.secret ?? []), '--public-url', PUBLIC_URL)) as Record<string, unknown>;
    const url = `${PUBLIC_URL}${API}/inbound/${format.name}`;
    expect(added).toMatchObject({ name: format.name, kind: format.kind, inbound_url: url });
    let secret: string;
    if (format.secret) {
      expect(added).not.toHaveProperty('token');
      secret = format.secret[1];
    } else {
      expect(added.token).toMatch(/^tng_[A-Za-z0-9_-]{32}$/);
      secret = added.token as string;
    }
    for (const n of format.numbers) {
      const device = n.device === undefined ? [] : ['--device', n.device, '--sim', String(n.sim)];
      expect(await tn('admin', 'pool', 'add', n.phone, '--source', format.name, '--country', format.country, ...device)).toEqual({
        number: n.phone,
        source: format.name,
        country: format.country,
        platforms: 'all',
        device: n.device ?? null,
        sim: n.sim ?? null,
      });
    }
    expect(((await tn('admin', 'pool', 'list')) as { numbers: { number: string }[] }).numbers.map((n) => n.number)).toEqual(format.numbers.map((n) => n.phone));

    const server = await startServe(['--port', '0', '--db', file, '--rate-limit', '0', ...serveFlags], env);
    const registered = await fetch(`${server.url}${API}/register`, { method: 'POST' });
    expect(registered.status).toBe(201);
    const { api_key: key } = (await registered.json()) as { api_key: string };
    const credit = await runTn(['admin', 'credit', key, '10', '--db', file], env);
    expect(credit.code, credit.stderr).toBe(0);

    const source: Source = { secret, numbers: format.numbers, url, localUrl: `${server.url}${API}/inbound/${format.name}` };
    return new Broker(format, dir, env, file, server, source, key);
  }

  async stop(): Promise<void> {
    this.server.child.kill('SIGTERM');
    await this.server.exited;
    rmSync(this.dir, { recursive: true, force: true });
  }

  private platforms = [...PLATFORMS];
  /** A platform no order on this server used yet. */
  nextPlatform(): string {
    const platform = this.platforms.shift();
    if (!platform) throw new Error('out of platforms: add some to PLATFORMS');
    return platform;
  }

  platformsLeft(): number {
    return this.platforms.length;
  }

  private count = 0;
  /** A new SMS to `to`, from the format's sender, carrying `code`. */
  sms(to: string, code: string): Sms {
    this.count += 1;
    return { id: `SM${randomUUID().replaceAll('-', '')}`, to, from: this.format.sender.raw, text: `Your verification code is ${code}. Do not share it. (#${this.count})` };
  }

  /** Sends a gateway request to this source's inbound URL. */
  async send(req: GatewayRequest, name = this.format.name): Promise<Reply> {
    const query = req.query ? `?${req.query}` : '';
    const res = await fetch(`${this.server.url}${API}/inbound/${name}${query}`, { method: req.method, headers: req.headers, body: req.body });
    return { status: res.status, type: (res.headers.get('content-type') ?? '').split(';')[0]!.trim(), body: await res.text() };
  }

  async api<T>(method: 'GET' | 'POST', path: string, body?: unknown): Promise<{ status: number; body: T }> {
    const res = await fetch(`${this.server.url}${API}${path}`, {
      method,
      headers: { authorization: `Bearer ${this.key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, body: (await res.json()) as T };
  }

  /** Orders a number for `platform` in the format's country; it is one of the pool's. */
  async order(platform: string): Promise<Order> {
    const { status, body } = await this.api<Order>('POST', '/order', { platform, country: this.format.country });
    expect(status, JSON.stringify(body)).toBe(201);
    expect(body.status).toBe('active');
    expect(this.format.numbers.map((n) => n.phone)).toContain(body.phone);
    return body;
  }

  async getOrder(id: string): Promise<Order> {
    const { status, body } = await this.api<Order>('GET', `/order/${id}`);
    expect(status, JSON.stringify(body)).toBe(200);
    return body;
  }

  async activeOrders(): Promise<Order[]> {
    const { status, body } = await this.api<{ orders: Order[] }>('GET', '/orders?status=active');
    expect(status).toBe(200);
    return body.orders;
  }

  /** `tn …args` on this server's database. */
  tn(...args: string[]): Promise<unknown> {
    return tnJson(this.env, this.file, args);
  }

  /** `tn admin inbox --json` (with --all: matched messages too), newest first. */
  async inbox(all = true): Promise<InboxRow[]> {
    return ((await this.tn('admin', 'inbox', ...(all ? ['--all'] : []), '--limit', '1000')) as { messages: InboxRow[] }).messages;
  }

  /** The row `tn admin inbox` shows for `sms` delivered to an order (or to none). */
  row(sms: Sms, orderId: string | null): Partial<InboxRow> {
    const slot = this.format.numbers.find((n) => n.phone === sms.to);
    return {
      source: this.format.name,
      to: sms.to,
      from: this.format.sender.stored,
      device: slot?.device ?? null,
      sim: slot?.sim ?? null,
      text: sms.text,
      order_id: orderId,
      message_id: sms.id,
    };
  }
}

const ok = (format: Format): Reply => ({ status: 200, ...format.reply });

/** Sends a request that must be refused, then checks that neither the order nor the inbox changed. */
async function refusedAndNothingChanged(b: Broker, build: Build, status: 400 | 403, code: string): Promise<void> {
  const pending = await b.order(b.nextPlatform());
  const before = await b.inbox();
  const genuine = b.sms(pending.phone, code);

  const res = await b.send(build(genuine, b.source));
  expect(res.status, res.body).toBe(status);
  expect(JSON.parse(res.body)).toMatchObject({ error: { code: status === 403 ? 'forbidden' : 'invalid_request' } });
  expect(await b.getOrder(pending.order_id)).toMatchObject({ status: 'active', code: null, codes: [], sms: null });
  expect(await b.inbox()).toEqual(before);

  // The genuine message, correctly signed, still completes the order: only the bad request was refused.
  expect(await b.send(b.format.deliver(genuine, b.source))).toEqual(ok(b.format));
  expect(await b.getOrder(pending.order_id)).toMatchObject({ status: 'completed', code, codes: [code] });
  const after = await b.inbox();
  expect(after).toHaveLength(before.length + 1);
  expect(after[0]).toMatchObject(b.row(genuine, pending.order_id));
}

// ── the tests ──────────────────────────────────────────────────────────────

for (const format of FORMATS) {
  describe(`inbound ${format.kind} against a real tn serve`, () => {
    let b: Broker;
    beforeAll(async () => {
      b = await Broker.start(format);
    });
    afterAll(async () => {
      await b?.stop();
    });

    it('a correctly signed SMS completes a verify that was already waiting, and the inbox shows it matched', async () => {
      const started = Date.now();
      const waiting = b.api<Order>('POST', '/verify', { platform: 'instagram', country: format.country, timeout_seconds: 30 });
      let pending: Order | undefined;
      await until(async () => (pending = (await b.activeOrders())[0]) !== undefined, 10_000, 'the verify to place its order');
      expect(pending!.platform).toBe('instagram');
      expect(format.numbers.map((n) => n.phone)).toContain(pending!.phone);

      const sms = b.sms(pending!.phone, '482913');
      expect(await b.send(format.deliver(sms, b.source))).toEqual(ok(format));

      const { status, body } = await waiting;
      expect(status, JSON.stringify(body)).toBe(200);
      expect(body).toMatchObject({ order_id: pending!.order_id, status: 'completed', code: '482913', codes: ['482913'], sms: sms.text, phone: pending!.phone, country: format.country });

      const rows = await b.inbox();
      expect(rows).toHaveLength(1);
      expect(rows[0]).toMatchObject(b.row(sms, pending!.order_id));
      const receivedAt = Date.parse(rows[0]!.received_at);
      expect(receivedAt).toBeGreaterThanOrEqual(started - 1000);
      expect(receivedAt).toBeLessThanOrEqual(Date.now() + 1000);
      // Matched, so not among the unmatched ones.
      expect(await b.inbox(false)).toEqual([]);
    });

    for (const [what, build] of Object.entries(format.forged)) {
      it(`refuses ${what} with 403, and nothing changes`, async () => {
        await refusedAndNothingChanged(b, build, 403, '731946');
      });
    }

    for (const [what, build] of Object.entries(format.malformed)) {
      it(`answers 400 to ${what}, and nothing changes`, async () => {
        await refusedAndNothingChanged(b, build, 400, '640285');
      });
    }

    it('a replayed message (same gateway message id) is answered 200 again but recorded once', async () => {
      const pending = await b.order(b.nextPlatform());
      const before = await b.inbox();
      const sms = b.sms(pending.phone, '905172');
      const req = format.deliver(sms, b.source);

      expect(await b.send(req)).toEqual(ok(format));
      expect(await b.send(req)).toEqual(ok(format)); // the very same request again
      expect(await b.send(format.deliver(sms, b.source))).toEqual(ok(format)); // a retry signed afresh
      // Retries racing each other.
      expect(await Promise.all([1, 2, 3].map(() => b.send(req)))).toEqual([1, 2, 3].map(() => ok(format)));

      expect(await b.getOrder(pending.order_id)).toMatchObject({ status: 'completed', code: '905172', codes: ['905172'], sms: sms.text });
      const rows = await b.inbox();
      expect(rows).toHaveLength(before.length + 1);
      expect(rows.filter((r) => r.message_id === sms.id)).toEqual([expect.objectContaining(b.row(sms, pending.order_id))]);
    });

    it('an SMS to a number with no active order lands in the inbox, unmatched, its number in E.164', async () => {
      expect(await b.activeOrders()).toEqual([]);
      const unmatchedBefore = await b.inbox(false);
      const idle = b.sms(format.numbers[1]!.phone, '118822');
      const stranger = b.sms(format.stranger.to, '229933');
      expect(await b.send(format.deliver(idle, b.source))).toEqual(ok(format));
      expect(await b.send(format.deliver(stranger, b.source))).toEqual(ok(format));

      const unmatched = await b.inbox(false);
      expect(unmatched).toHaveLength(unmatchedBefore.length + 2);
      expect(unmatched[1]).toMatchObject(b.row(idle, null));
      // An android-gateway message names its device: one not in the pool has no receiving number.
      const device = format.kind === 'android-gateway' ? { device: 'unregistered-phone', sim: 1 } : {};
      expect(unmatched[0]).toMatchObject({ ...b.row(stranger, null), to: format.stranger.stored, ...device });
    });

    if (format.kind === 'jasmin') {
      it('Jasmin may call with GET and the fields in the query', async () => {
        const pending = await b.order(b.nextPlatform());
        const sms = b.sms(pending.phone, '357159');
        expect(await b.send({ method: 'GET', query: form({ token: b.source.secret, ...jasminFields(sms) }), headers: {} })).toEqual(ok(format));
        expect(await b.getOrder(pending.order_id)).toMatchObject({ status: 'completed', code: '357159' });
        expect((await b.inbox())[0]).toMatchObject(b.row(sms, pending.order_id));
      });
    }

    if (format.kind === 'generic') {
      it('an unknown source name is 404, with nothing stored', async () => {
        const before = await b.inbox();
        const res = await b.send(format.deliver(b.sms(format.numbers[0]!.phone, '123123'), b.source), 'no-such-source');
        expect(res.status).toBe(404);
        expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'not_found' } });
        expect(await b.inbox()).toEqual(before);
      });
    }

    it('ends with every order completed on a pool number, and no active order left at the source', async () => {
      expect(await b.activeOrders()).toEqual([]);
      const { body } = await b.api<{ orders: Order[]; total: number }>('GET', '/orders?limit=100');
      expect(body.total).toBe(PLATFORMS.length - b.platformsLeft() + 1);
      expect(body.orders.every((o) => o.status === 'completed' && format.numbers.some((n) => n.phone === o.phone))).toBe(true);
      const { sources } = (await b.tn('admin', 'sources')) as { sources: unknown[] };
      expect(sources).toEqual([
        expect.objectContaining({
          source: format.name,
          kind: format.kind,
          enabled: true,
          active_orders: 0,
          ended_orders_24h: body.total,
          success_rate: 1,
          // The forged and malformed requests above, as the operator sees them (why, not who).
          errors_last_hour: expect.any(Number),
          last_error: expect.objectContaining({ code: expect.stringMatching(/^inbound_(forbidden|malformed)$/) }),
        }),
      ]);
    });

    if (format.kind === 'generic') {
      it('a source disabled while `tn serve` runs takes no new order, but its active order still gets its SMS', async () => {
        const pending = await b.order(b.nextPlatform());
        expect(await b.tn('admin', 'source', 'disable', format.name)).toEqual({ name: format.name, enabled: false });
        // Not served by the simulator either: a configured broker has no numbers for it.
        expect(await b.api<unknown>('POST', '/order', { platform: b.nextPlatform(), country: format.country })).toMatchObject({
          status: 503,
          body: { error: { code: 'no_numbers' } },
        });
        const sms = b.sms(pending.phone, '864200');
        expect(await b.send(format.deliver(sms, b.source))).toEqual(ok(format));
        expect(await b.getOrder(pending.order_id)).toMatchObject({ status: 'completed', code: '864200' });
        expect((await b.inbox())[0]).toMatchObject(b.row(sms, pending.order_id));
      });
    }
  });
}

describe('inbound twilio without --public-url', () => {
  const format = FORMATS[0]!;
  let b: Broker;
  beforeAll(async () => {
    b = await Broker.start(format, []);
  });
  afterAll(async () => {
    await b?.stop();
  });

  it('is signed over the URL the request reached (http://<Host><path>), not the public one', async () => {
    const pending = await b.order('instagram');
    const sms = b.sms(pending.phone, '246810');
    const params = twilioParams(sms);
    // Signed for the public URL: this server does not know it runs there.
    const res = await b.send(twilioPost(params, twilioSignature(b.source.url, params, TWILIO_TOKEN)));
    expect(res.status).toBe(403);
    expect(await b.getOrder(pending.order_id)).toMatchObject({ status: 'active', codes: [] });

    expect(await b.send(twilioPost(params, twilioSignature(b.source.localUrl, params, TWILIO_TOKEN)))).toEqual(ok(format));
    expect(await b.getOrder(pending.order_id)).toMatchObject({ status: 'completed', code: '246810' });
  });
});
