import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { INBOUND_KINDS, parseInbound, type InboundKind, type InboundRequest } from '../src/providers/inbound.js';

// Issue 7 §3: each inbound format checks its authenticity before anything else. The signatures
// here are computed from the gateways' documented algorithms, independently of the implementation.

const NOW = Date.parse('2025-03-01T12:00:00Z');
const SECRET = 'k3y-for-tests';

function request(over: Partial<InboundRequest>): InboundRequest {
  return { method: 'POST', url: 'https://tn.example.com/api/v1/inbound/src', headers: {}, rawBody: '', now: NOW, ...over };
}

function form(params: Record<string, string>): string {
  return new URLSearchParams(params).toString();
}

// ── Twilio ─────────────────────────────────────────────────────────────────

/** Base64 HMAC-SHA1 over the URL then each POST parameter, sorted by name, name then value. */
function twilioSignature(url: string, params: Record<string, string>, token: string): string {
  const data = url + Object.keys(params).sort().map((k) => k + params[k]).join('');
  return createHmac('sha1', token).update(data).digest('base64');
}

describe('twilio', () => {
  const url = 'https://tn.example.com/api/v1/inbound/office-twilio';
  const sms = {
    MessageSid: 'SM0123456789abcdef0123456789abcdef',
    AccountSid: 'AC0123456789abcdef0123456789abcdef',
    From: '+44 7700 900001',
    To: '+447700900123',
    Body: 'Your code is 123456',
    NumMedia: '0',
  };
  const twilio = (params: Record<string, string>, signature: string, at = url) =>
    parseInbound('twilio', SECRET, request({ url: at, headers: { 'x-twilio-signature': signature, 'content-type': 'application/x-www-form-urlencoded' }, rawBody: form(params) }));

  it('reproduces the examples from Twilio’s documentation and SDK', () => {
    const exampleUrl = 'https://mycompany.com/myapp.php?foo=1&bar=2';
    const example = (caller: string) => ({ CallSid: 'CA1234567890ABCDE', Caller: caller, Digits: '1234', From: caller, To: '+18005551212' });
    expect(twilioSignature(exampleUrl, example('+12349013030'), '12345')).toBe('0/KCTR6DLpKmkAf8muzZqo1nDgQ=');
    expect(twilioSignature(exampleUrl, example('+14158675309'), '12345')).toBe('RSOYDt4T1cUTdK1PDd93/VVr8B8=');
    // The parser accepts the documented signature (a voice call, so no Body: 400, not 403) …
    const call = (token: string) =>
      parseInbound('twilio', token, request({ url: exampleUrl, headers: { 'x-twilio-signature': '0/KCTR6DLpKmkAf8muzZqo1nDgQ=' }, rawBody: form(example('+12349013030')) }));
    expect(call('12345')).toEqual({ ok: false, status: 400, reason: 'From, To and Body are required' });
    // … and only with the right auth token.
    expect(call('54321')).toMatchObject({ ok: false, status: 403 });
  });

  it('parses a correctly signed SMS and answers an empty TwiML response', () => {
    expect(twilio(sms, twilioSignature(url, sms, SECRET))).toEqual({
      ok: true,
      message: { to: '+447700900123', from: '+447700900001', text: 'Your code is 123456', receivedAt: NOW, messageId: sms.MessageSid },
      reply: { status: 200, contentType: 'text/xml', body: '<?xml version="1.0" encoding="UTF-8"?><Response/>' },
    });
  });

  it('accepts a signature over the URL with the default port spelled out, as Twilio sometimes signs', () => {
    expect(twilio(sms, twilioSignature('https://tn.example.com:443/api/v1/inbound/office-twilio', sms, SECRET)).ok).toBe(true);
  });

  it('refuses a wrong, missing or misdirected signature and a tampered body with 403', () => {
    expect(twilio(sms, twilioSignature(url, sms, 'other-token'))).toMatchObject({ ok: false, status: 403 });
    expect(parseInbound('twilio', SECRET, request({ url, rawBody: form(sms) }))).toMatchObject({ ok: false, status: 403 });
    expect(twilio(sms, twilioSignature(`${url}?x=1`, sms, SECRET))).toMatchObject({ ok: false, status: 403 });
    expect(twilio({ ...sms, Body: 'Your code is 999999' }, twilioSignature(url, sms, SECRET))).toMatchObject({ ok: false, status: 403 });
  });

  it('answers 400 to a signed message without a receiving number', () => {
    const { To: _to, ...noTo } = sms;
    expect(twilio(noTo, twilioSignature(url, noTo, SECRET))).toMatchObject({ ok: false, status: 400 });
    const badTo = { ...sms, To: 'nobody' };
    expect(twilio(badTo, twilioSignature(url, badTo, SECRET))).toMatchObject({ ok: false, status: 400 });
  });
});

// ── SMS Gateway for Android ────────────────────────────────────────────────

/** Hex HMAC-SHA256 of the raw body followed by the X-Timestamp value. */
function androidSignature(body: string, timestamp: string, key: string): string {
  return createHmac('sha256', key).update(body + timestamp).digest('hex');
}

describe('android-gateway', () => {
  const event = {
    deviceId: 'ffffffffceb0b1db0000018e937c815b',
    event: 'sms:received',
    id: 'Ey6ECgOkVVFjz3CL48B8C',
    webhookId: 'LreFUt-Z3sSq0JufY9uWB',
    payload: { messageId: 'abc123', message: 'Android is always a good choice. Code 4821', phoneNumber: '6505551212', simNumber: 1, receivedAt: '2025-03-01T12:58:30.000+01:00' },
  };
  const seconds = (ms: number) => String(Math.floor(ms / 1000));
  const android = (body: string, timestamp: string, signature = androidSignature(body, timestamp, SECRET)) =>
    parseInbound('android-gateway', SECRET, request({ headers: { 'content-type': 'application/json', 'x-signature': signature, 'x-timestamp': timestamp }, rawBody: body }));

  it('parses a correctly signed sms:received, naming the device and SIM instead of the receiving number', () => {
    expect(android(JSON.stringify(event), seconds(NOW))).toEqual({
      ok: true,
      message: {
        to: null,
        from: '+6505551212',
        text: 'Android is always a good choice. Code 4821',
        receivedAt: Date.parse('2025-03-01T11:58:30Z'),
        messageId: 'abc123',
        device: { id: 'ffffffffceb0b1db0000018e937c815b', sim: 1 },
      },
      reply: { status: 200, contentType: 'application/json', body: '{"ok":true}' },
    });
  });

  it('refuses a wrong signature and a timestamp more than 5 minutes off with 403', () => {
    const body = JSON.stringify(event);
    expect(android(body, seconds(NOW), androidSignature(body, seconds(NOW), 'wrong'))).toMatchObject({ ok: false, status: 403 });
    expect(android(body, seconds(NOW), androidSignature(body.replace('4821', '0000'), seconds(NOW), SECRET))).toMatchObject({ ok: false, status: 403 });
    expect(android(body, seconds(NOW - 6 * 60_000))).toMatchObject({ ok: false, status: 403, reason: 'stale X-Timestamp' });
    expect(android(body, seconds(NOW + 6 * 60_000))).toMatchObject({ ok: false, status: 403, reason: 'stale X-Timestamp' });
    expect(android(body, seconds(NOW - 4 * 60_000)).ok).toBe(true);
  });

  it('answers 400 to a signed body that is not JSON or not sms:received', () => {
    expect(android('{"deviceId":', seconds(NOW))).toMatchObject({ ok: false, status: 400 });
    expect(android(JSON.stringify({ ...event, event: 'sms:sent' }), seconds(NOW))).toMatchObject({ ok: false, status: 400 });
    expect(android(JSON.stringify({ ...event, payload: { ...event.payload, phoneNumber: '' } }), seconds(NOW))).toMatchObject({ ok: false, status: 400 });
  });

  it('uses now when the message has no time of its own', () => {
    const timeless = { ...event, payload: { ...event.payload, receivedAt: undefined, simNumber: undefined } };
    expect(android(JSON.stringify(timeless), seconds(NOW))).toMatchObject({ ok: true, message: { receivedAt: NOW, device: { sim: null } } });
  });

  // Issue 20 §2: taken as arriving now, an old message would be the code of a newer order.
  it('refuses with 400 a message time more than 30 days old, in the future, or unreadable', () => {
    const at = (receivedAt: unknown) => android(JSON.stringify({ ...event, payload: { ...event.payload, receivedAt } }), seconds(NOW));
    expect(at('2001-01-01T00:00:00Z')).toEqual({ ok: false, status: 400, reason: 'payload.receivedAt 2001-01-01T00:00:00Z is more than 30 days old' });
    expect(at(new Date(NOW - 31 * 86_400_000).toISOString())).toMatchObject({ ok: false, status: 400 });
    expect(at(new Date(NOW + 10 * 60_000).toISOString())).toMatchObject({ ok: false, status: 400, reason: expect.stringMatching(/in the future$/) });
    expect(at('yesterday')).toMatchObject({ ok: false, status: 400, reason: 'payload.receivedAt is not an ISO 8601 time' });
    expect(at(1_740_830_000_000)).toMatchObject({ ok: false, status: 400 });
    expect(at(new Date(NOW - 29 * 86_400_000).toISOString())).toMatchObject({ ok: true, message: { receivedAt: NOW - 29 * 86_400_000 } });
  });
});

// ── httpSMS ────────────────────────────────────────────────────────────────

function jwt(claims: Record<string, unknown>, key: string, header: Record<string, unknown> = { alg: 'HS256', typ: 'JWT' }): string {
  const part = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
  const signingInput = `${part(header)}.${part(claims)}`;
  return `${signingInput}.${createHmac('sha256', key).update(signingInput).digest('base64url')}`;
}

describe('httpsms', () => {
  const event = {
    specversion: '1.0',
    id: '7b0c1f4e-0000-4000-8000-000000000001',
    source: '/v1/messages/receive',
    type: 'message.phone.received',
    datacontenttype: 'application/json',
    time: '2025-03-01T11:59:00Z',
    data: { message_id: '9d1c4b7e-0000-4000-8000-000000000002', owner: '+18005550199', contact: '+18005550100', content: 'Your WhatsApp code: 123-456', sim: 'SIM1', timestamp: '2025-03-01T11:58:58.5Z' },
  };
  const s = NOW / 1000;
  const valid = { iss: 'api.httpsms.com', sub: 'user', iat: s - 5, nbf: s - 5, exp: s + 600 };
  const httpsms = (token: string | undefined, body = JSON.stringify(event)) =>
    parseInbound('httpsms', SECRET, request({ headers: { authorization: token === undefined ? undefined : `Bearer ${token}` }, rawBody: body }));

  it('parses a CloudEvent with a valid HS256 JWT', () => {
    expect(httpsms(jwt(valid, SECRET))).toEqual({
      ok: true,
      message: { to: '+18005550199', from: '+18005550100', text: 'Your WhatsApp code: 123-456', receivedAt: Date.parse('2025-03-01T11:58:58.5Z'), messageId: event.data.message_id },
      reply: { status: 200, contentType: 'application/json', body: '{"ok":true}' },
    });
  });

  it('refuses a missing, wrongly signed, unsigned, expired or not-yet-valid token with 403', () => {
    expect(httpsms(undefined)).toMatchObject({ ok: false, status: 403 });
    expect(httpsms(jwt(valid, 'another key'))).toMatchObject({ ok: false, status: 403 });
    expect(httpsms(jwt(valid, SECRET, { alg: 'HS512', typ: 'JWT' }))).toMatchObject({ ok: false, status: 403 });
    const unsigned = jwt(valid, SECRET, { alg: 'none' }).split('.').slice(0, 2).join('.') + '.';
    expect(httpsms(unsigned)).toMatchObject({ ok: false, status: 403 });
    expect(httpsms(jwt({ ...valid, exp: s - 120 }, SECRET))).toMatchObject({ ok: false, status: 403, reason: 'JWT expired' });
    expect(httpsms(jwt({ ...valid, nbf: s + 120 }, SECRET))).toMatchObject({ ok: false, status: 403, reason: 'JWT not yet valid' });
  });

  // Issue 20 §5: httpSMS always sets `exp`, 10 minutes after `iat`; a token that never expires or
  // lives longer was not made by it, and would be replayable for as long once captured.
  it('refuses with 403 a token without exp, or living longer than the 10 minutes httpSMS gives one', () => {
    expect(httpsms(jwt({ sub: 'no time claims' }, SECRET))).toEqual({ ok: false, status: 403, reason: 'JWT has no exp' });
    const { exp: _exp, ...noExp } = valid;
    expect(httpsms(jwt(noExp, SECRET))).toMatchObject({ ok: false, status: 403, reason: 'JWT has no exp' });
    expect(httpsms(jwt({ ...valid, exp: String(s + 600) }, SECRET))).toMatchObject({ ok: false, status: 403, reason: 'JWT has no exp' });
    expect(httpsms(jwt({ ...valid, exp: s + 3600 }, SECRET))).toMatchObject({ ok: false, status: 403, reason: 'JWT lives longer than httpSMS issues' });
    expect(httpsms(jwt({ ...valid, iat: s - 86_400, exp: s + 60 }, SECRET))).toMatchObject({ ok: false, status: 403, reason: 'JWT lives longer than httpSMS issues' });
    expect(httpsms(jwt({ sub: 'user', exp: s + 365 * 86_400 }, SECRET))).toMatchObject({ ok: false, status: 403, reason: 'JWT lives longer than httpSMS issues' });
    expect(httpsms(jwt({ ...valid, iat: s + 3600, exp: s + 3600 + 600 }, SECRET))).toMatchObject({ ok: false, status: 403 });
    // What httpSMS sends: iat now, nbf 10 minutes back, exp 10 minutes ahead; also without iat.
    expect(httpsms(jwt({ ...valid, iat: s, nbf: s - 600, exp: s + 600 }, SECRET)).ok).toBe(true);
    expect(httpsms(jwt({ sub: 'user', exp: s + 600 }, SECRET)).ok).toBe(true);
    expect(httpsms(jwt({ ...valid, iat: s - 540, exp: s + 60 }, SECRET)).ok).toBe(true);
  });

  it('refuses with 400 a message time more than 30 days old or in the future, in data.timestamp or the event time', () => {
    const token = jwt(valid, SECRET);
    const old = '2025-01-01T00:00:00Z';
    expect(httpsms(token, JSON.stringify({ ...event, data: { ...event.data, timestamp: old } }))).toEqual({ ok: false, status: 400, reason: `data.timestamp ${old} is more than 30 days old` });
    expect(httpsms(token, JSON.stringify({ ...event, time: old, data: { ...event.data, timestamp: undefined } }))).toEqual({ ok: false, status: 400, reason: `time ${old} is more than 30 days old` });
    expect(httpsms(token, JSON.stringify({ ...event, data: { ...event.data, timestamp: '2025-03-02T00:00:00Z' } }))).toMatchObject({ ok: false, status: 400 });
  });

  it('answers 400 to a malformed event once authenticated', () => {
    const token = jwt(valid, SECRET);
    expect(httpsms(token, 'not json')).toMatchObject({ ok: false, status: 400 });
    expect(httpsms(token, JSON.stringify({ ...event, type: 'message.phone.sent' }))).toMatchObject({ ok: false, status: 400 });
    expect(httpsms(token, JSON.stringify({ ...event, data: { ...event.data, owner: 42 } }))).toMatchObject({ ok: false, status: 400 });
  });
});

// ── Jasmin ─────────────────────────────────────────────────────────────────

describe('jasmin', () => {
  const base = 'https://tn.example.com/api/v1/inbound/smsc';
  const fields = { id: 'a1b2c3', from: '33600000001', to: '33700000123', 'origin-connector': 'smpp-01', coding: '0', content: 'Code: 7755' };
  const expected = { to: '+33700000123', from: '+33600000001', text: 'Code: 7755', receivedAt: NOW, messageId: 'a1b2c3' };

  it('parses a POSTed form with the token in the query and answers exactly ACK/Jasmin', () => {
    expect(parseInbound('jasmin', SECRET, request({ url: `${base}?token=${encodeURIComponent(SECRET)}`, rawBody: form(fields) }))).toEqual({
      ok: true,
      message: expected,
      reply: { status: 200, contentType: 'text/plain', body: 'ACK/Jasmin' },
    });
  });

  it('parses a GET with every field in the query, and UCS-2 text from `binary`', () => {
    const get = (extra: Record<string, string>) =>
      parseInbound('jasmin', SECRET, request({ method: 'GET', url: `${base}?${form({ ...fields, ...extra, token: SECRET })}` }));
    expect(get({})).toMatchObject({ ok: true, message: expected });
    const ucs2 = Buffer.from('Код 5521', 'utf16le').swap16().toString('hex');
    expect(get({ coding: '8', content: '?', binary: ucs2 })).toMatchObject({ ok: true, message: { text: 'Код 5521' } });
  });

  it('refuses a wrong or missing token with 403', () => {
    expect(parseInbound('jasmin', SECRET, request({ url: `${base}?token=nope`, rawBody: form(fields) }))).toMatchObject({ ok: false, status: 403 });
    expect(parseInbound('jasmin', SECRET, request({ url: base, rawBody: form({ ...fields, token: SECRET }) }))).toMatchObject({ ok: false, status: 403 });
  });

  it('answers 400 to a message without content', () => {
    const { content: _content, ...noContent } = fields;
    expect(parseInbound('jasmin', SECRET, request({ url: `${base}?token=${SECRET}`, rawBody: form(noContent) }))).toMatchObject({ ok: false, status: 400 });
  });
});

// ── generic ────────────────────────────────────────────────────────────────

describe('generic', () => {
  const generic = (body: unknown, auth = `Bearer ${SECRET}`) =>
    parseInbound('generic', SECRET, request({ headers: { authorization: auth }, rawBody: typeof body === 'string' ? body : JSON.stringify(body) }));

  it('parses { to, from, text, received_at } with the bearer token, keeping an alphanumeric sender', () => {
    expect(generic({ to: '+49 (151) 2345-6789', from: 'Google', text: 'G-482913 is your Google verification code.', received_at: '2025-03-01T11:59:30Z' })).toEqual({
      ok: true,
      message: { to: '+4915123456789', from: 'Google', text: 'G-482913 is your Google verification code.', receivedAt: NOW - 30_000, messageId: null },
      reply: { status: 200, contentType: 'application/json', body: '{"ok":true}' },
    });
    expect(generic({ to: '+15550100', from: '+15550101', text: 'x' })).toMatchObject({ ok: true, message: { receivedAt: NOW } });
  });

  it('refuses a wrong or missing bearer token with 403', () => {
    expect(generic({ to: '+15550100', from: '+15550101', text: 'x' }, 'Bearer wrong')).toMatchObject({ ok: false, status: 403 });
    expect(generic({ to: '+15550100', from: '+15550101', text: 'x' }, SECRET)).toMatchObject({ ok: false, status: 403 });
  });

  it('answers 400 to malformed bodies', () => {
    expect(generic('{')).toMatchObject({ ok: false, status: 400 });
    expect(generic([])).toMatchObject({ ok: false, status: 400 });
    expect(generic({ to: '', from: '+15550101', text: 'x' })).toMatchObject({ ok: false, status: 400 });
    expect(generic({ to: '+15550100', from: '   ', text: 'x' })).toMatchObject({ ok: false, status: 400 });
    expect(generic({ to: '+15550100', from: '+15550101', text: 7 })).toMatchObject({ ok: false, status: 400 });
    expect(generic({ to: '+15550100', from: '+15550101', text: 'x', received_at: 'yesterday' })).toMatchObject({ ok: false, status: 400 });
  });

  it('refuses with 400 a received_at more than 30 days old or in the future, naming it', () => {
    const sms = { to: '+15550100', from: '+15550101', text: 'x' };
    expect(generic({ ...sms, received_at: '2025-01-01T00:00:00Z' })).toEqual({ ok: false, status: 400, reason: 'received_at 2025-01-01T00:00:00Z is more than 30 days old' });
    expect(generic({ ...sms, received_at: '2025-03-01T12:06:00Z' })).toEqual({ ok: false, status: 400, reason: 'received_at 2025-03-01T12:06:00Z is in the future' });
    expect(generic({ ...sms, received_at: '2025-03-01T12:04:00Z' })).toMatchObject({ ok: true, message: { receivedAt: NOW + 4 * 60_000 } });
  });

  it('refuses everything when no secret is configured', () => {
    expect(parseInbound('generic', '', request({ headers: { authorization: 'Bearer ' }, rawBody: '{"to":"+1","from":"+2","text":"x"}' }))).toMatchObject({ ok: false, status: 403 });
  });
});

// ── properties ─────────────────────────────────────────────────────────────

describe('any input', () => {
  const kind = fc.constantFrom<InboundKind>(...INBOUND_KINDS);
  const headerName = fc.oneof(fc.constantFrom('authorization', 'x-signature', 'x-timestamp', 'x-twilio-signature', 'content-type'), fc.string());
  const headers = fc.dictionary(headerName, fc.option(fc.oneof(fc.string(), fc.constant(`Bearer ${SECRET}`).map((v) => v + 'x')), { nil: undefined }));
  const anyRequest = fc.record({
    method: fc.oneof(fc.constantFrom('POST', 'GET'), fc.string()),
    url: fc.oneof(fc.webUrl({ withQueryParameters: true }), fc.string()),
    headers,
    rawBody: fc.oneof(fc.string(), fc.json(), fc.constant(JSON.stringify({ to: '+1', from: '+2', text: 'x' }))),
    now: fc.oneof(fc.constant(NOW), fc.integer(), fc.double()),
  });

  it('never throws and never accepts a request without a valid signature', () => {
    fc.assert(
      fc.property(kind, fc.string({ minLength: 1 }), anyRequest, (k, secret, req) => {
        const result = parseInbound(k, secret, req);
        expect(result).toMatchObject({ ok: false, status: 403 });
      }),
      { numRuns: 2000 },
    );
  });

  it('never throws on any authenticated body: it parses or answers 400', () => {
    const signed = (k: InboundKind, body: string, method: string): InboundRequest => {
      const url = `https://tn.example.com/in?token=${SECRET}`;
      const ts = String(Math.floor(NOW / 1000));
      const headers: Record<InboundKind, Record<string, string>> = {
        twilio: { 'x-twilio-signature': twilioSignature(url, Object.fromEntries(new URLSearchParams(body)), SECRET) },
        'android-gateway': { 'x-signature': androidSignature(body, ts, SECRET), 'x-timestamp': ts },
        httpsms: { authorization: `Bearer ${jwt({ exp: NOW / 1000 + 60 }, SECRET)}` },
        jasmin: {},
        generic: { authorization: `Bearer ${SECRET}` },
      };
      return request({ method, url, headers: headers[k], rawBody: body });
    };
    // Twilio's signature is over distinct names here (the helper takes a record), so keep names unique.
    const body = fc.oneof(
      fc.string(),
      fc.json(),
      fc.dictionary(fc.string(), fc.string()).map((d) => new URLSearchParams(d).toString()),
      fc.record({ to: fc.string(), from: fc.string(), text: fc.string(), received_at: fc.option(fc.string()) }).map((b) => JSON.stringify(b)),
    );
    fc.assert(
      fc.property(kind, body, (k, b) => {
        const req = signed(k, b, 'POST');
        if (k === 'twilio' && new Set([...new URLSearchParams(b).keys()]).size !== [...new URLSearchParams(b).keys()].length) return;
        const result = parseInbound(k, SECRET, req);
        if (!result.ok) expect(result.status).toBe(400);
      }),
      { numRuns: 2000 },
    );
  });
});
