/**
 * `tn serve --metrics` (issue 18 item 6), through the real binary on a real port and a real SQLite
 * file, with TempNumber as the source (the fake of test/support, so the test decides when an SMS
 * comes): off by default; on, the counters after a verify that gets its code, a cancelled order, a
 * webhook tried twice, a failed upstream poll and a refused register, in the Prometheus text format,
 * with no phone number, key or id in any label.
 */
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startFakeTempNumber } from './support/fake-tempnumber.js';
import { killLeftovers, runTn, startServe, stopServe, tempHome, until, requireBuild } from './support/process.js';
import { startReceiver } from './support/webhooks-receiver.js';

const API = '/api/v1';

beforeAll(requireBuild);
afterEach(killLeftovers);

interface Sample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/** The Prometheus text format (0.0.4): `# HELP` / `# TYPE` lines, then `name{label="value",…} number`; anything else fails. */
function parseMetrics(text: string): { samples: Sample[]; types: Map<string, string> } {
  const samples: Sample[] = [];
  const types = new Map<string, string>();
  for (const line of text.split('\n')) {
    if (line === '' || line.startsWith('# HELP ')) continue;
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (type) {
      types.set(type[1]!, type[2]!);
      continue;
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m) throw new Error(`not a metrics line: ${JSON.stringify(line)}`);
    const labels: Record<string, string> = {};
    const body = m[2] ?? '';
    const pair = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)",?/gy;
    let rest = body.length;
    for (let p = pair.exec(body); p; p = pair.exec(body)) {
      labels[p[1]!] = p[2]!.replace(/\\(.)/g, (_, c: string) => (c === 'n' ? '\n' : c));
      rest -= p[0].length;
    }
    if (rest !== 0) throw new Error(`labels not parsed: ${JSON.stringify(line)}`);
    // Prometheus reads values as Go's ParseFloat does: NaN and Inf in any case (prom-client writes `Nan`).
    const word = m[3]!.toLowerCase();
    const value = word === 'nan' ? NaN : /^[+-]?inf$/.test(word) ? (word.startsWith('-') ? -Infinity : Infinity) : Number(m[3]);
    if (Number.isNaN(value) && word !== 'nan') throw new Error(`not a number: ${JSON.stringify(line)}`);
    samples.push({ name: m[1]!, labels, value });
  }
  return { samples, types };
}

/** The value of the one sample named so whose labels include `labels`; undefined when there is none. */
function valueOf(samples: Sample[], name: string, labels: Record<string, string> = {}): number | undefined {
  const found = samples.filter((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
  if (found.length > 1) throw new Error(`${name} ${JSON.stringify(labels)} matches ${found.length} samples`);
  return found[0]?.value;
}

async function scrape(url: string): Promise<{ samples: Sample[]; types: Map<string, string>; text: string }> {
  const res = await fetch(`${url}/metrics`);
  expect(res.status).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^text\/plain; version=0\.0\.4/);
  const text = await res.text();
  return { ...parseMetrics(text), text };
}

async function post(url: string, key: string, body: unknown): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
}

describe('tn serve --metrics', () => {
  it('is off unless asked for: /metrics is the error shape 404, prom-client is not even loaded, and --help names the flag', async () => {
    const h = tempHome('tn-metrics-');
    const help = await runTn(['serve', '--help'], h.env);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/--metrics\s+serve Prometheus metrics at GET \/metrics/);

    // NODE_DEBUG=module names on stderr every CommonJS module loaded, prom-client among them if it were.
    const server = await startServe(['--port', '0', '--db', h.file, '--quiet'], { ...h.env, NODE_DEBUG: 'module' });
    const res = await fetch(`${server.url}/metrics`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe('not_found');
    await stopServe(server);
    expect(server.stderr()).toContain('better-sqlite3');
    expect(server.stderr()).not.toContain('prom-client');
  });

  it('counts orders by platform and state, money, the waits, webhooks, the upstream and refusals, with no secret in a label', async () => {
    const fake = await startFakeTempNumber({ prices: { instagram: { us: 0.15 } } });
    const receiver = await startReceiver();
    let hits = 0;
    // The first delivery fails and is retried; the second is taken.
    receiver.answer = () => ({ status: ++hits === 1 ? 500 : 200 });
    const h = tempHome('tn-metrics-');
    const source = await runTn(
      ['admin', 'source', 'add', 'tempnumber', '--name', 'upstream', '--api-key', fake.apiKey, '--base-url', fake.url, '--markup', '30%', '--poll-interval', '200', '--db', h.file],
      h.env,
    );
    expect(source.code, source.stderr).toBe(0);
    const server = await startServe(
      ['--port', '0', '--db', h.file, '--quiet', '--metrics', '--register-limit', '1', '--allow-private-webhooks', '--webhook-retry-schedule', '0,100'],
      h.env,
    );

    const registered = await fetch(`${server.url}${API}/register`, { method: 'POST' });
    expect(registered.status).toBe(201);
    const { api_key: key, account_id: account } = (await registered.json()) as { api_key: string; account_id: string };
    // The second register from this address is over --register-limit 1.
    const refused = await fetch(`${server.url}${API}/register`, { method: 'POST' });
    expect(refused.status).toBe(429);
    const credit = await runTn(['admin', 'credit', account, '5', '--db', h.file], h.env);
    expect(credit.code, credit.stderr).toBe(0);
    const webhook = await fetch(`${server.url}${API}/webhook`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
      body: JSON.stringify({ url: `${receiver.url}/hook` }),
    });
    expect(webhook.status).toBe(200);

    // A verify whose first upstream poll is refused (429), then its SMS arrives upstream.
    fake.storm('getActivation', 1, 1);
    const verifying = post(`${server.url}${API}/verify`, key, { platform: 'instagram', country: 'us', timeout_seconds: 60 });
    await until(() => fake.activations.size === 1, 15_000, 'the activation upstream');
    await until(() => fake.requests.some((r) => r.path.startsWith('/api/v1/activations/') && r.status === 429), 15_000, 'the refused poll');
    const [first] = [...fake.activations.values()];
    fake.deliver(first!.id, 'Your Instagram code is 739105. Do not share it.', '739105');
    const verified = await verifying;
    expect(verified.status).toBe(200);
    const completed = (await verified.json()) as { order_id: string; phone: string; status: string; price: number };
    expect(completed).toMatchObject({ status: 'completed', price: 0.2 });

    // An order cancelled before any SMS.
    const ordered = await post(`${server.url}${API}/order`, key, { platform: 'instagram', country: 'us' });
    expect(ordered.status).toBe(201);
    const active = (await ordered.json()) as { order_id: string; phone: string };
    const cancelled = await post(`${server.url}${API}/order/${active.order_id}/cancel`, key, {});
    expect(cancelled.status).toBe(200);

    await receiver.waitFor((all) => all.some((hit) => hit.status === 200), 15_000, 'the delivered webhook');
    // The attempt is counted once recorded, just after the receiver answered.
    await until(async () => valueOf((await scrape(server.url)).samples, 'tn_webhook_deliveries_total', { outcome: 'delivered' }) === 1, 15_000, 'the recorded delivery');
    const { samples, types, text } = await scrape(server.url);
    const v = (name: string, labels?: Record<string, string>): number | undefined => valueOf(samples, name, labels);

    expect(v('tn_orders_created_total', { platform: 'instagram' })).toBe(2);
    expect(v('tn_orders_ended_total', { platform: 'instagram', state: 'completed' })).toBe(1);
    expect(v('tn_orders_ended_total', { platform: 'instagram', state: 'cancelled' })).toBe(1);
    expect(v('tn_orders_ended_total', { platform: 'instagram', state: 'expired' })).toBeUndefined();
    // Two orders at $0.20, one refunded; the credit was the operator's, in another process (tn admin).
    expect(v('tn_charged_micro_usd_total')).toBe(400_000);
    expect(v('tn_refunded_micro_usd_total')).toBe(200_000);
    expect(v('tn_credited_micro_usd_total')).toBe(0);
    expect(v('tn_order_code_wait_seconds_count', { source: 'upstream' })).toBe(1);
    expect(v('tn_order_code_wait_seconds_bucket', { source: 'upstream', le: '+Inf' })).toBe(1);
    expect(v('tn_verify_duration_seconds_count', { outcome: 'completed' })).toBe(1);
    expect(v('tn_webhook_deliveries_total', { outcome: 'retrying' })).toBe(1);
    expect(v('tn_webhook_deliveries_total', { outcome: 'delivered' })).toBe(1);
    expect(v('tn_webhook_deliveries_total', { outcome: 'failed' })).toBe(0);
    expect(v('tn_source_call_duration_seconds_count', { source: 'upstream', call: 'purchase' })).toBe(2);
    expect(v('tn_source_call_duration_seconds_count', { source: 'upstream', call: 'poll' })).toBeGreaterThanOrEqual(2);
    expect(v('tn_source_errors_total', { source: 'upstream', call: 'poll', kind: 'rate_limited' })).toBe(1);
    expect(v('tn_source_errors_total', { source: 'upstream', call: 'purchase', kind: 'rate_limited' })).toBeUndefined();
    expect(v('tn_rate_limited_total', { limit: 'register' })).toBe(1);
    const info = samples.find((s) => s.name === 'tn_info');
    expect(info).toMatchObject({ value: 1, labels: { version: expect.stringMatching(/^\d+\.\d+\.\d+/), instance: expect.stringMatching(/^[0-9a-f-]{36}$/) } });
    // Process metrics, from the same registry.
    expect(v('process_cpu_user_seconds_total')).toBeGreaterThan(0);
    expect(types.get('nodejs_eventloop_lag_seconds')).toBe('gauge');
    expect(types.get('tn_orders_ended_total')).toBe('counter');
    expect(types.get('tn_verify_duration_seconds')).toBe('histogram');

    // No label carries a phone number (in any spelling), a key, an account or an order id.
    const secrets = [key, account, completed.order_id, active.order_id, completed.phone, active.phone, completed.phone.slice(1), active.phone.slice(2), fake.apiKey];
    const values = samples.flatMap((s) => Object.values(s.labels));
    for (const secret of secrets) {
      expect(values.filter((value) => value.includes(secret))).toEqual([]);
      expect(text).not.toContain(secret);
    }

    // /metrics is not part of the API's OpenAPI document.
    const openapi = (await (await fetch(`${server.url}${API}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).filter((p) => p.includes('metrics'))).toEqual([]);
    await stopServe(server);
    expect(await server.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});
