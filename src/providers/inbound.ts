/**
 * Inbound SMS from an operator's own gateways: one pure parser per format (issue 7 §3). Each one
 * checks the request's authenticity before it reads anything else, then normalises the message.
 * No I/O here: the server hands in the request as received and sends back `reply` (or the status).
 *
 * Facts about the formats: `../shared/reference/peers.md`, "Inbound SMS gateways".
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { normalisePhone } from '../core/phone.js';
import { GATEWAY_KINDS, type GatewayKind } from '../core/sources/kinds.js';
import type { InboundMessage, InboundReply, InboundRequest, InboundResult } from '../core/sources/providers.js';

export type { InboundMessage, InboundReply, InboundRequest, InboundResult } from '../core/sources/providers.js';

export type InboundKind = GatewayKind;

export const INBOUND_KINDS: readonly InboundKind[] = GATEWAY_KINDS;

/** SMS Gateway for Android: timestamps further than this from `now` are refused. */
export const ANDROID_MAX_SKEW_MS = 5 * 60_000;
/** httpSMS JWTs: leeway on `exp` and `nbf` for clock differences, in seconds. */
export const JWT_LEEWAY_S = 60;
/**
 * httpSMS signs each webhook's JWT with `exp` 10 minutes after `iat` (its `WebhookService.getAuthToken`).
 * A token meant to live longer was not made by it, and a captured one would be replayable for that
 * long: refused, as is one without `exp`.
 */
export const HTTPSMS_JWT_LIFETIME_S = 10 * 60;
/**
 * A message's own time must lie within this window around `now`. Outside it the time is refused,
 * not replaced by `now`: taken as arriving now, an old message would complete an order placed after
 * it (issue 20 §2), and a time in the future would match orders that do not exist yet.
 */
export const INBOUND_MAX_AGE_MS = 30 * 24 * 3_600_000;
export const INBOUND_MAX_AHEAD_MS = 5 * 60_000;

export const TWIML_EMPTY = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
export const JASMIN_ACK = 'ACK/Jasmin';
const REPLIES: Record<InboundKind, InboundReply> = {
  twilio: { status: 200, contentType: 'text/xml', body: TWIML_EMPTY },
  jasmin: { status: 200, contentType: 'text/plain', body: JASMIN_ACK },
  'android-gateway': { status: 200, contentType: 'application/json', body: '{"ok":true}' },
  httpsms: { status: 200, contentType: 'application/json', body: '{"ok":true}' },
  generic: { status: 200, contentType: 'application/json', body: '{"ok":true}' },
};

// ── results ────────────────────────────────────────────────────────────────

type Read = { ok: true; message: InboundMessage } | { ok: false; reason: string };
/** Authentication passed: `read` parses the rest. Failed: why (never shown to the caller's peer). */
type Authenticated = { ok: true; read: () => Read } | { ok: false; reason: string };

const denied = (reason: string): Authenticated => ({ ok: false, reason });
const malformed = (reason: string): Read => ({ ok: false, reason });
const parsed = (message: InboundMessage): Read => ({ ok: true, message });

/**
 * Authenticates, then parses, one inbound request. Never throws: a request that fails
 * authentication gets 403 and nothing else of it is read; a malformed one gets 400.
 */
export function parseInbound(kind: InboundKind, secret: string, req: InboundRequest): InboundResult {
  let authenticated = false;
  try {
    if (!Object.hasOwn(AUTHENTICATORS, kind)) return { ok: false, status: 400, reason: 'unknown source kind' };
    if (typeof secret !== 'string' || secret === '') return { ok: false, status: 403, reason: 'no secret configured' };
    const auth = AUTHENTICATORS[kind](secret, req);
    if (!auth.ok) return { ok: false, status: 403, reason: auth.reason };
    authenticated = true;
    const read = auth.read();
    if (!read.ok) return { ok: false, status: 400, reason: read.reason };
    return { ok: true, message: read.message, reply: { ...REPLIES[kind] } };
  } catch {
    // Nothing above should throw; if it does, an unauthenticated request still gets no further.
    return authenticated
      ? { ok: false, status: 400, reason: 'unreadable request' }
      : { ok: false, status: 403, reason: 'could not authenticate' };
  }
}

const AUTHENTICATORS: Record<InboundKind, (secret: string, req: InboundRequest) => Authenticated> = {
  twilio: twilio,
  'android-gateway': androidGateway,
  httpsms: httpSms,
  jasmin: jasmin,
  generic: generic,
};

// ── Twilio ─────────────────────────────────────────────────────────────────

function twilio(secret: string, req: InboundRequest): Authenticated {
  const signature = header(req, 'x-twilio-signature');
  if (signature === null) return denied('missing X-Twilio-Signature');
  const params = isPost(req) ? [...new URLSearchParams(req.rawBody)] : [];
  const signed = twilioSignedParams(params);
  // Twilio signs some URLs with the default port and some without: accept either (as its SDKs do).
  const valid = urlPortVariants(req.url).some((url) =>
    safeEqual(createHmac('sha1', secret).update(url + signed, 'utf8').digest('base64'), signature),
  );
  if (!valid) return denied('bad X-Twilio-Signature');
  return {
    ok: true,
    read: () => {
      const fields = new Map<string, string>();
      for (const [k, v] of isPost(req) ? params : queryOf(req.url)) if (!fields.has(k)) fields.set(k, v);
      const to = fields.get('To');
      const from = fields.get('From');
      const text = fields.get('Body');
      if (to === undefined || from === undefined || text === undefined) return malformed('From, To and Body are required');
      return message({ to, from, text, messageId: fields.get('MessageSid') ?? fields.get('SmsSid') ?? null, time: null, now: req.now });
    },
  };
}

/** The parameters sorted by name (then value), each name immediately followed by its value. */
function twilioSignedParams(params: readonly [string, string][]): string {
  return [...params]
    .sort(([ak, av], [bk, bv]) => compare(ak, bk) || compare(av, bv))
    .map(([k, v]) => k + v)
    .join('');
}

/** The URL as given, plus the same URL with its default port added, or its explicit port removed. */
function urlPortVariants(url: string): string[] {
  const m = /^(https?):\/\/([^/?#]*)(.*)$/is.exec(url);
  if (!m) return [url];
  const [, scheme = '', authority = '', rest = ''] = m;
  const withPort = /:\d*$/.test(authority);
  const other = withPort
    ? authority.replace(/:\d*$/, '')
    : `${authority}:${scheme.toLowerCase() === 'https' ? 443 : 80}`;
  return [url, `${scheme}://${other}${rest}`];
}

// ── SMS Gateway for Android (capcom6) ──────────────────────────────────────

function androidGateway(secret: string, req: InboundRequest): Authenticated {
  const signature = header(req, 'x-signature');
  const timestamp = header(req, 'x-timestamp');
  if (signature === null || timestamp === null) return denied('missing X-Signature or X-Timestamp');
  if (!/^[0-9a-f]{64}$/i.test(signature)) return denied('bad X-Signature');
  const expected = createHmac('sha256', secret).update(req.rawBody + timestamp, 'utf8').digest();
  if (!bytesEqual(expected, Buffer.from(signature, 'hex'))) return denied('bad X-Signature');
  if (!/^\d{1,12}$/.test(timestamp) || !(Math.abs(req.now - Number(timestamp) * 1000) <= ANDROID_MAX_SKEW_MS)) {
    return denied('stale X-Timestamp');
  }
  return {
    ok: true,
    read: () => {
      const body = json(req.rawBody);
      if (!body) return malformed('body is not a JSON object');
      if (body.event !== 'sms:received') return malformed(`unsupported event ${JSON.stringify(body.event ?? null)}`);
      const payload = body.payload;
      if (!isObject(payload)) return malformed('payload is required');
      const { deviceId } = body;
      const { phoneNumber, message: text, simNumber, messageId } = payload;
      if (typeof deviceId !== 'string' || deviceId === '') return malformed('deviceId is required');
      if (typeof phoneNumber !== 'string' || typeof text !== 'string') return malformed('payload.phoneNumber and payload.message are required');
      if (simNumber !== undefined && simNumber !== null && !(Number.isSafeInteger(simNumber) && (simNumber as number) >= 0)) {
        return malformed('payload.simNumber is not a slot number');
      }
      const id = typeof messageId === 'string' && messageId !== '' ? messageId : typeof body.id === 'string' && body.id !== '' ? body.id : null;
      const read = message({ to: null, from: phoneNumber, text, messageId: id, time: { field: 'payload.receivedAt', value: payload.receivedAt }, now: req.now });
      if (read.ok) read.message.device = { id: deviceId, sim: typeof simNumber === 'number' ? simNumber : null };
      return read;
    },
  };
}

// ── httpSMS ────────────────────────────────────────────────────────────────

function httpSms(secret: string, req: InboundRequest): Authenticated {
  const token = bearer(req);
  if (token === null) return denied('missing bearer token');
  const problem = verifyJwtHs256(token, secret, req.now);
  if (problem) return denied(problem);
  return {
    ok: true,
    read: () => {
      const event = json(req.rawBody);
      if (!event) return malformed('body is not a JSON object');
      if (event.type !== 'message.phone.received') return malformed(`unsupported event type ${JSON.stringify(event.type ?? null)}`);
      const data = event.data;
      if (!isObject(data)) return malformed('data is required');
      const { contact, owner, content } = data;
      if (typeof contact !== 'string' || typeof owner !== 'string' || typeof content !== 'string') {
        return malformed('data.contact, data.owner and data.content are required');
      }
      const id = typeof data.message_id === 'string' && data.message_id !== '' ? data.message_id : typeof event.id === 'string' && event.id !== '' ? event.id : null;
      const time = data.timestamp !== undefined && data.timestamp !== null ? { field: 'data.timestamp', value: data.timestamp } : { field: 'time', value: event.time };
      return message({ to: owner, from: contact, text: content, messageId: id, time, now: req.now });
    },
  };
}

/** Null when `token` is a JWT signed HS256 with `secret` and valid at `now`; otherwise why not. */
function verifyJwtHs256(token: string, secret: string, now: number): string | null {
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((p) => /^[A-Za-z0-9_-]+$/.test(p))) return 'bearer token is not a JWT';
  const [head = '', body = '', signature = ''] = parts;
  const header = json(Buffer.from(head, 'base64url').toString('utf8'));
  if (!header || header.alg !== 'HS256') return 'JWT is not HS256';
  const expected = createHmac('sha256', secret).update(`${head}.${body}`, 'utf8').digest('base64url');
  if (!safeEqual(expected, signature)) return 'bad JWT signature';
  const claims = json(Buffer.from(body, 'base64url').toString('utf8'));
  if (!claims) return 'JWT claims are not an object';
  const seconds = now / 1000;
  if (typeof claims.exp !== 'number' || !Number.isFinite(claims.exp)) return 'JWT has no exp';
  if (!(seconds < claims.exp + JWT_LEEWAY_S)) return 'JWT expired';
  if (claims.iat !== undefined && !(typeof claims.iat === 'number' && claims.iat <= seconds + JWT_LEEWAY_S)) return 'JWT issued in the future';
  const issued = typeof claims.iat === 'number' ? claims.iat : seconds;
  if (claims.exp - Math.min(issued, seconds) > HTTPSMS_JWT_LIFETIME_S + JWT_LEEWAY_S) return 'JWT lives longer than httpSMS issues';
  if (claims.nbf !== undefined && !(typeof claims.nbf === 'number' && seconds >= claims.nbf - JWT_LEEWAY_S)) return 'JWT not yet valid';
  return null;
}

// ── Jasmin ─────────────────────────────────────────────────────────────────

function jasmin(secret: string, req: InboundRequest): Authenticated {
  let query: URLSearchParams;
  try {
    query = new URL(req.url).searchParams;
  } catch {
    return denied('unreadable URL');
  }
  const tokens = query.getAll('token');
  if (tokens.length !== 1 || !safeEqual(tokens[0] ?? '', secret)) return denied('bad token');
  return {
    ok: true,
    read: () => {
      const fields = new Map<string, string>();
      for (const [k, v] of query) if (k !== 'token') fields.set(k, v);
      if (isPost(req)) for (const [k, v] of new URLSearchParams(req.rawBody)) fields.set(k, v);
      const to = fields.get('to');
      const from = fields.get('from');
      const text = jasminText(fields);
      if (to === undefined || from === undefined || text === null) return malformed('from, to and content are required');
      const id = fields.get('id');
      return message({ to, from, text, messageId: id ? id : null, time: null, now: req.now });
    },
  };
}

/** UCS-2 messages (coding 8) arrive as raw bytes: read them from the hex `binary` field when given. */
function jasminText(fields: Map<string, string>): string | null {
  const binary = fields.get('binary');
  if (fields.get('coding') === '8' && binary !== undefined && /^(?:[0-9a-f]{4})*$/i.test(binary)) {
    return Buffer.from(binary, 'hex').swap16().toString('utf16le');
  }
  return fields.get('content') ?? null;
}

// ── generic JSON ───────────────────────────────────────────────────────────

function generic(secret: string, req: InboundRequest): Authenticated {
  const token = bearer(req);
  if (token === null || !safeEqual(token, secret)) return denied('bad bearer token');
  return {
    ok: true,
    read: () => {
      const body = json(req.rawBody);
      if (!body) return malformed('body is not a JSON object');
      const { to, from, text } = body;
      if (typeof to !== 'string' || typeof from !== 'string' || typeof text !== 'string') return malformed('to, from and text are required strings');
      // An optional `id` makes a repeated post of the same message harmless, as the gateways' own ids do.
      const id = body.id;
      if (id !== undefined && id !== null && (typeof id !== 'string' || id === '' || id.length > 128)) return malformed('id must be a string of 1 to 128 characters');
      return message({ to, from, text, messageId: typeof id === 'string' ? id : null, time: { field: 'received_at', value: body.received_at }, now: req.now });
    },
  };
}

// ── normalisation ──────────────────────────────────────────────────────────

/** A sender: a phone number in E.164, or an alphanumeric sender id ("Google") kept as sent. */
export function normaliseSender(raw: string): string | null {
  const trimmed = raw.trim();
  if (/^\+?[\d\s().-]+$/.test(trimmed)) return normalisePhone(trimmed);
  if (trimmed === '' || trimmed.length > 64 || /\p{Cc}/u.test(trimmed)) return null;
  return trimmed;
}

/** The time a gateway says it received the message, and the field it came in (for the refusal). */
type GatewayTime = { field: string; value: unknown } | null;

function message(m: { to: string | null; from: string; text: string; messageId: string | null; time: GatewayTime; now: number }): Read {
  let to: string | null = null;
  if (m.to !== null) {
    to = normalisePhone(m.to);
    if (to === null) return malformed('the receiving number is not a phone number');
  }
  const from = normaliseSender(m.from);
  if (from === null) return malformed('the sender is empty or unreadable');
  const receivedAt = m.time === null ? m.now : gatewayTime(m.time.field, m.time.value, m.now);
  if (typeof receivedAt === 'string') return malformed(receivedAt);
  return parsed({ to, from, text: m.text, receivedAt, messageId: m.messageId });
}

function isIsoTime(value: string): boolean {
  return /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value) && Number.isFinite(Date.parse(value));
}

/**
 * The message's own time in ms, `now` when the gateway sent none, or why it is refused: a time
 * that cannot be read, or one outside the window around `now`.
 */
function gatewayTime(field: string, value: unknown, now: number): number | string {
  if (value === undefined || value === null) return now;
  if (typeof value !== 'string' || !isIsoTime(value)) return `${field} is not an ISO 8601 time`;
  const t = Date.parse(value);
  if (t < now - INBOUND_MAX_AGE_MS) return `${field} ${value} is more than ${INBOUND_MAX_AGE_MS / 86_400_000} days old`;
  if (t > now + INBOUND_MAX_AHEAD_MS) return `${field} ${value} is in the future`;
  return t;
}

// ── helpers ────────────────────────────────────────────────────────────────

function header(req: InboundRequest, name: string): string | null {
  const headers: unknown = req.headers;
  if (!isObject(headers) || !Object.hasOwn(headers, name)) return null;
  const value = headers[name];
  return typeof value === 'string' ? value.trim() : null;
}

/** The URL's query parameters (none when the URL does not parse). */
function queryOf(url: string): [string, string][] {
  try {
    return [...new URL(url).searchParams];
  } catch {
    return [];
  }
}

function bearer(req: InboundRequest): string | null {
  const value = header(req, 'authorization');
  const m = value === null ? null : /^Bearer[ \t]+(\S+)$/i.exec(value);
  return m?.[1] ?? null;
}

function isPost(req: InboundRequest): boolean {
  return typeof req.method === 'string' && req.method.toUpperCase() === 'POST' && typeof req.rawBody === 'string';
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function json(text: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(text);
    return isObject(value) ? value : null;
  } catch {
    return null;
  }
}

/** Constant-time string equality that does not reveal lengths either (both sides hashed first). */
function safeEqual(a: string, b: string): boolean {
  return bytesEqual(createHash('sha256').update(a, 'utf8').digest(), createHash('sha256').update(b, 'utf8').digest());
}

function bytesEqual(a: Buffer, b: Buffer): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
