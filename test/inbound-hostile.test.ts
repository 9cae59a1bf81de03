/**
 * The inbound endpoint under hostile input, through the real app (`app.inject`): whatever a
 * caller sends (any method, content type, headers, body, query), the answer is a well-formed
 * error or a gateway's acknowledgement, never a 500, and no order changes unless the request is
 * genuinely signed.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { errorProblems, makeApp, USD } from './support/http.js';
import { fundedAccount } from './helpers.js';

const SECRET = 'hostile-test-secret-1';
const KINDS = ['twilio', 'android-gateway', 'httpsms', 'jasmin', 'generic'] as const;

describe('POST /api/v1/inbound/:source with hostile input', () => {
  it('answers every request with an error shape or an acknowledgement, and completes nothing', async () => {
    const t = await makeApp({ scheduler: false, webhooks: false });
    const { core } = t;
    const { accountId } = await fundedAccount(core, 10 * USD);
    const orders: string[] = [];
    for (const [i, kind] of KINDS.entries()) {
      await core.addSource({ name: `s${i}`, kind, secret: SECRET });
      await core.addPoolNumber({ phone: `+4477009005${String(i).padStart(2, '0')}`, source: `s${i}`, country: 'gb', platforms: '*', device: kind === 'android-gateway' ? 'dev' : null, sim: kind === 'android-gateway' ? 1 : null });
      orders.push((await core.order(accountId, { platform: 'instagram', country: 'gb' })).order_id);
    }
    const text = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 3 }));
    const request = fc.record({
      method: fc.constantFrom('POST' as const, 'GET' as const),
      source: fc.constantFrom('s0', 's1', 's2', 's3', 's4', 'nosuch', 'S0', '..%2f'),
      contentType: fc.constantFrom('application/json', 'application/x-www-form-urlencoded', 'text/plain', 'application/cloudevents+json', 'multipart/form-data', ''),
      body: text,
      query: fc.dictionary(fc.constantFrom('token', 'id', 'to', 'from', 'content', 'x'), fc.string({ maxLength: 40 }), { maxKeys: 4 }),
      headers: fc.dictionary(
        fc.constantFrom('authorization', 'x-twilio-signature', 'x-signature', 'x-timestamp'),
        fc.oneof(fc.string({ maxLength: 80 }).map((s) => s.replace(/[^\x20-\x7e]/g, '')), fc.constant(`Bearer ${SECRET}x`)),
        { maxKeys: 3 },
      ),
    });
    // Messages each gateway would send for an active order's number, with credentials that are not
    // the source's: if authentication failed open, these would complete orders.
    const phone = (i: number): string => `+4477009005${String(i).padStart(2, '0')}`;
    const sms = '123456 is your Instagram code';
    interface Attempt {
      method: 'POST' | 'GET';
      source: string;
      contentType: string;
      body: string;
      query: Record<string, string>;
      headers: Record<string, string>;
    }
    const wellFormed = fc.record({ headers: request.map((r) => r.headers), id: fc.uuid(), token: fc.string({ minLength: 1, maxLength: 40 }) }).chain(({ headers, id, token }) =>
      fc.constantFrom<Attempt>(
        { method: 'POST' as const, source: 's0', contentType: 'application/x-www-form-urlencoded', body: new URLSearchParams({ MessageSid: `SM${id}`, From: '+15550100100', To: phone(0), Body: sms }).toString(), query: {}, headers },
        {
          method: 'POST' as const,
          source: 's1',
          contentType: 'application/json',
          body: JSON.stringify({ deviceId: 'dev', event: 'sms:received', id, payload: { messageId: id, message: sms, phoneNumber: '+15550100100', simNumber: 1, receivedAt: new Date().toISOString() } }),
          query: {},
          headers: { ...headers, 'x-timestamp': String(Math.floor(Date.now() / 1000)) },
        },
        {
          method: 'POST' as const,
          source: 's2',
          contentType: 'application/json',
          body: JSON.stringify({ specversion: '1.0', id, source: 'httpsms', type: 'message.phone.received', time: new Date().toISOString(), data: { contact: '+15550100100', content: sms, owner: phone(2), sim: 'SIM1', timestamp: new Date().toISOString(), message_id: id } }),
          query: {},
          headers,
        },
        { method: 'GET' as const, source: 's3', contentType: '', body: '', query: { token, id, from: '+15550100100', to: phone(3), content: sms }, headers },
        { method: 'POST' as const, source: 's4', contentType: 'application/json', body: JSON.stringify({ to: phone(4), from: 'Instagram', text: sms, id }), query: {}, headers },
      ),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(request, wellFormed), async (r) => {
        const res = await t.app.inject({
          method: r.method,
          url: `/api/v1/inbound/${r.source}?${new URLSearchParams(r.query).toString()}`,
          headers: { ...r.headers, ...(r.contentType ? { 'content-type': r.contentType } : {}) },
          ...(r.method === 'POST' ? { payload: r.body } : {}),
        });
        expect(res.statusCode).not.toBe(500);
        if (res.statusCode >= 400) expect(errorProblems(res.statusCode, res.body), res.body).toEqual([]);
      }),
      { numRuns: 300, seed: 7 },
    );
    for (const id of orders) expect((await core.getOrder(accountId, id)).status).toBe('active');
    expect((await core.audit()).violations).toEqual([]);
  }, 60_000);
});
