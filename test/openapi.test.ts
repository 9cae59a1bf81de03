import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCoreOnFile } from '../src/client/embedded.js';
import { FakeEsplora } from './support/fake-esplora.js';
import { twilioSignature } from './support/gateways.js';
import { API, makeApp } from './support/http.js';
import { cleanEnv, startServe, stopServe, requireBuild, type ServeProcess } from './support/process.js';

// Issue 18 §3: `GET /api/v1/openapi.json` describes everything the server accepts and answers. A
// real `tn serve` (the compiled dist/: `npm run build` first) gets the examples of the seed and
// the README (curl's `-d` form bodies, the key in a header, in the query, in the body) and
// refusals; each request is checked against the document as a validating proxy (Prism) checks it,
// and each live answer's status, content type, headers and body against what the document declares
// for that operation. The schemas are compiled with Ajv (draft 2020-12, the dialect of OpenAPI 3.1).

// ── the document ──────────────────────────────────────────────────────────────────────────────

interface Media {
  schema?: object;
}
interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
  required?: boolean;
  schema?: object;
}
interface Operation {
  parameters?: Parameter[];
  requestBody?: { required?: boolean; content: Record<string, Media> };
  responses: Record<string, { content?: Record<string, Media>; headers?: Record<string, { schema: object }> }>;
  security?: Record<string, string[]>[];
}
interface Document {
  openapi: string;
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, object>; securitySchemes: Record<string, { type: string; scheme?: string; in?: string; name?: string }> };
}

const METHODS = ['get', 'put', 'post', 'delete', 'patch'];

/** `GET /api/v1/order/{id}` for every operation of the document. */
function operationsOf(doc: Document): string[] {
  return Object.entries(doc.paths).flatMap(([path, item]) => Object.keys(item).filter((m) => METHODS.includes(m)).map((m) => `${m.toUpperCase()} ${path}`));
}

/**
 * The operation a request path is for, with its path parameters: literal paths before templated
 * ones (OpenAPI's rule), and a `{name}` matches one segment, an empty one too, so that `/order/`
 * finds `/order/{id}` and its id fails the parameter's schema, as a validator reports it.
 */
function findOperation(doc: Document, method: string, path: string): { template: string; op: Operation; params: Record<string, string> } | undefined {
  const templates = Object.keys(doc.paths).sort((a, b) => a.split('{').length - b.split('{').length);
  for (const template of templates) {
    const names: string[] = [];
    const pattern = template.replace(/[.*+?^$()|[\]\\]/g, '\\$&').replace(/\{(\w+)\}/g, (_m, name: string) => {
      names.push(name);
      return '([^/]*)';
    });
    const m = new RegExp(`^${pattern}$`).exec(path);
    const op = doc.paths[template]![method.toLowerCase()];
    if (m && op) return { template, op, params: Object.fromEntries(names.map((n, i) => [n, decodeURIComponent(m[i + 1]!)])) };
  }
  return undefined;
}

const essence = (contentType: string | null | undefined): string => (contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** JSON bodies as they are; query strings and form fields are text, read by the schema's types as validators do. */
class Schemas {
  private readonly strict: Ajv2020;
  private readonly coercing: Ajv2020;
  private readonly cache = new Map<string, ValidateFunction>();

  constructor(doc: Document) {
    const formats = {
      'date-time': /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/,
      date: /^\d{4}-\d{2}-\d{2}$/,
    };
    // strict: false, because the document's root and its OpenAPI keywords are no JSON Schema.
    this.strict = new Ajv2020({ strict: false, allErrors: true, formats });
    this.coercing = new Ajv2020({ strict: false, allErrors: true, formats, coerceTypes: true });
    this.strict.addSchema(doc, 'openapi.json');
    this.coercing.addSchema(doc, 'openapi.json');
  }

  /** What is wrong with `value` against the schema at `pointer` (a JSON pointer into the document). */
  problems(pointer: string, value: unknown, text = false): string[] {
    const key = `${text}${pointer}`;
    let validate = this.cache.get(key);
    if (!validate) {
      validate = (text ? this.coercing : this.strict).compile({ $ref: `openapi.json#${pointer}` });
      this.cache.set(key, validate);
    }
    return validate(value) ? [] : (validate.errors ?? []).map((e) => `${pointer}: ${e.instancePath || '(root)'} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
  }
}

const pointerOf = (...parts: string[]): string => parts.map((p) => `/${p.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');

// ── requests and answers ──────────────────────────────────────────────────────────────────────

interface Call {
  /** What it is, for the failure message. */
  name: string;
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  /** With the query string, if any. */
  path: string;
  headers?: Record<string, string>;
  /** The body as sent; a `multipart` one is sent as FormData. */
  body?: string | { multipart: Record<string, string> };
  /** The document allows the request (default), or refuses it as the server does. */
  valid?: boolean;
  status: number;
  /** An event stream: read until `until` is in it, then closed. */
  stream?: { until: string };
}

interface Exchange {
  status: number;
  headers: Headers;
  text: string;
  /** The body as JSON, when it is JSON. */
  json: unknown;
}

/** Why `call` is not a request the document allows; empty when it is. */
function requestProblems(doc: Document, schemas: Schemas, call: Call): string[] {
  const url = new URL(call.path, 'http://tn.test');
  const found = findOperation(doc, call.method, url.pathname);
  if (!found) return [`no operation ${call.method} ${url.pathname}`];
  const { template, op, params } = found;
  const at = (...rest: string[]): string => pointerOf('paths', template, call.method.toLowerCase(), ...rest);
  const headers = Object.fromEntries(Object.entries(call.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
  const problems: string[] = [];

  for (const [i, p] of (op.parameters ?? []).entries()) {
    const value = p.in === 'path' ? params[p.name] : p.in === 'query' ? (url.searchParams.get(p.name) ?? undefined) : headers[p.name.toLowerCase()];
    if (value === undefined) {
      if (p.required) problems.push(`missing ${p.in} parameter ${p.name}`);
      continue;
    }
    problems.push(...schemas.problems(at('parameters', String(i), 'schema'), value, true));
  }

  const satisfied = (alternative: Record<string, string[]>): boolean =>
    Object.keys(alternative).every((name) => {
      const scheme = doc.components.securitySchemes[name]!;
      if (scheme.type === 'http') return /^bearer\s+\S/i.test(headers.authorization ?? '');
      return scheme.in === 'query' ? url.searchParams.has(scheme.name!) : headers[scheme.name!.toLowerCase()] !== undefined;
    });
  if (op.security && !op.security.some(satisfied)) problems.push(`no security alternative is met: ${JSON.stringify(op.security)}`);

  if (call.body === undefined) {
    if (op.requestBody?.required) problems.push('the body is required');
  } else if (!op.requestBody) {
    problems.push('the operation takes no body');
  } else {
    const type = typeof call.body === 'string' ? essence(headers['content-type']) : 'multipart/form-data';
    if (!op.requestBody.content[type]) problems.push(`body content type ${type || '(none)'} is not one of ${Object.keys(op.requestBody.content).join(', ')}`);
    else problems.push(...bodyProblems(schemas, at('requestBody', 'content', type, 'schema'), type, call.body));
  }
  return problems;
}

/** A body read as a validating proxy reads its content type: JSON, form fields, multipart fields, text. */
function bodyProblems(schemas: Schemas, pointer: string, type: string, body: string | { multipart: Record<string, string> }): string[] {
  if (typeof body !== 'string') return schemas.problems(pointer, body.multipart, true);
  if (type === 'application/x-www-form-urlencoded') return schemas.problems(pointer, Object.fromEntries(new URLSearchParams(body)), true);
  if (type === 'application/json') {
    try {
      return schemas.problems(pointer, JSON.parse(body));
    } catch {
      return ['the body is not JSON'];
    }
  }
  return schemas.problems(pointer, body);
}

/** Why `answer` is not what the document declares for `call`'s operation; empty when it is. */
function responseProblems(doc: Document, schemas: Schemas, call: Call, answer: Exchange): string[] {
  const found = findOperation(doc, call.method, new URL(call.path, 'http://tn.test').pathname)!;
  const declared = found.op.responses[String(answer.status)];
  if (!declared) return [`status ${answer.status} is not declared (${Object.keys(found.op.responses).join(', ')}): ${answer.text.slice(0, 300)}`];
  const at = (...rest: string[]): string => pointerOf('paths', found.template, call.method.toLowerCase(), 'responses', String(answer.status), ...rest);
  const problems: string[] = [];
  for (const [name, header] of Object.entries(declared.headers ?? {})) {
    const value = answer.headers.get(name);
    if (value !== null && header.schema) problems.push(...schemas.problems(at('headers', name, 'schema'), value, true));
  }
  if (!declared.content) return answer.text === '' ? problems : [...problems, `a body where none is declared: ${answer.text.slice(0, 200)}`];
  const type = essence(answer.headers.get('content-type'));
  if (!declared.content[type]) return [...problems, `content type ${type} is not one of ${Object.keys(declared.content).join(', ')}`];
  const value = type === 'application/json' ? answer.json : answer.text;
  return [...problems, ...schemas.problems(at('content', type, 'schema'), value)];
}

async function send(base: string, call: Call): Promise<Exchange> {
  const body = call.body === undefined ? undefined : typeof call.body === 'string' ? call.body : toFormData(call.body.multipart);
  const res = await fetch(base + call.path, { method: call.method, headers: call.headers, body, signal: call.stream ? undefined : AbortSignal.timeout(20_000) });
  const text = call.stream && res.ok ? await readStream(res, call.stream.until) : await res.text();
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: res.status, headers: res.headers, text, json };
}

function toFormData(fields: Record<string, string>): FormData {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  return form;
}

/** An event stream's text up to `until` (or its end), then the connection is dropped. */
async function readStream(res: Response, until: string): Promise<string> {
  const reader = res.body!.getReader();
  const decoder = new TextDecoder();
  let text = '';
  const deadline = Date.now() + 15_000;
  while (!text.includes(until) && Date.now() < deadline) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  await reader.cancel();
  return text;
}

// ── the server ────────────────────────────────────────────────────────────────────────────────

const BIP84_ZPUB = 'zpub6rFR7y4Q2AijBEqTUquhVz398htDFrtymD9xYYfG1m4wAcvPhXNfE3EfH1r1ADqtfSdVCToUG868RvUUkgDKf31mGDtKsAYz2oz2AGutZYs';
const GENERIC_TOKEN = 'tng_openapi-generic-token-0123456789';
const JASMIN_TOKEN = 'jasmin-openapi-token';
const TWILIO_TOKEN = 'twilio-openapi-auth-token-0123456789';
const FORM = { 'content-type': 'application/x-www-form-urlencoded' };
const JSON_TYPE = { 'content-type': 'application/json' };
const USD = 1_000_000;

let server: ServeProcess;
let dir: string;
let file: string;
let esplora: FakeEsplora;
let doc: Document;
let schemas: Schemas;

beforeAll(async () => {
  requireBuild();
  // Not tempDir(): that is removed after each test, and this server serves the whole file.
  dir = mkdtempSync(join(tmpdir(), 'tn-openapi-'));
  file = join(dir, 'tn.db');
  // The gateways the inbound examples come from, configured as `tn admin source add` would; with
  // sources configured, the simulator serves orders only when it is one of them.
  const setup = openCoreOnFile(file);
  await setup.addSource({ name: 'simulator', kind: 'simulator' });
  await setup.addSource({ name: 'script', kind: 'generic', secret: GENERIC_TOKEN });
  await setup.addSource({ name: 'smsc', kind: 'jasmin', secret: JASMIN_TOKEN });
  await setup.addSource({ name: 'office', kind: 'twilio', secret: TWILIO_TOKEN });
  await setup.close();

  esplora = await FakeEsplora.start('bc');
  const config = join(dir, 'serve.json');
  writeFileSync(
    config,
    JSON.stringify({
      // One call an hour to /usage: the second is the rate-limit example.
      rateLimits: { routes: { 'GET /api/v1/usage': { limit: 1, windowSeconds: 3600 } } },
      deposits: { btc: { xpub: BIP84_ZPUB, esplora_url: esplora.url, confirmations: 2 }, usd_rates: { btc: 97_000 }, minimum_usd: 1, poll_seconds: 1 },
    }),
  );
  const env = cleanEnv({ TN_CONFIG_DIR: join(dir, 'config'), TN_DATA_DIR: join(dir, 'data') });
  // Each SMS 3 s after its order (or its retry): verify answers soon enough, and an order is still
  // active for the cancel sent right after it, even on a busy machine.
  server = await startServe(['--port', '0', '--db', file, '--config', config, '--sim-delay', '3000', '-q'], env);

  const res = await fetch(`${server.url}${API}/openapi.json`);
  expect(res.status).toBe(200);
  doc = (await res.json()) as Document;
  schemas = new Schemas(doc);
});
afterAll(async () => {
  if (server) await stopServe(server);
  rmSync(dir, { recursive: true, force: true });
});

describe('the OpenAPI document against the live server', () => {
  it('allows every example of the seed and the README, refuses the malformed ones, and declares every answer', { timeout: 120_000 }, async () => {
    const exercised = new Set<string>();
    const failures: string[] = [];
    const run = async (call: Call): Promise<Exchange> => {
      const request = requestProblems(doc, schemas, call);
      if ((call.valid ?? true) !== (request.length === 0)) failures.push(`${call.name}: the document ${request.length ? `refuses it: ${request.join('; ')}` : 'allows it'}`);
      const found = findOperation(doc, call.method, new URL(call.path, 'http://tn.test').pathname);
      if (found) exercised.add(`${call.method} ${found.template}`);
      const answer = await send(server.url, call);
      if (answer.status !== call.status) failures.push(`${call.name}: HTTP ${answer.status}, expected ${call.status}: ${answer.text.slice(0, 300)}`);
      if (found) failures.push(...responseProblems(doc, schemas, call, answer).map((p) => `${call.name}: ${p}`));
      return answer;
    };
    const bearer = (key: string): Record<string, string> => ({ authorization: `Bearer ${key}` });

    // A call that goes wrong early must not hide what the others found.
    await calls(run, bearer).catch((err: unknown) => failures.push(`stopped: ${String(err)}`));
    expect(failures).toEqual([]);
    // Every operation of the document was called, and the calls were all of the document's.
    expect([...exercised].sort()).toEqual(operationsOf(doc).sort());
  });
});

/** The requests, in an order where each finds what it needs (orders, keys) made by those before. */
async function calls(run: (call: Call) => Promise<Exchange>, bearer: (key: string) => Record<string, string>): Promise<void> {
  // ── the seed: Authentication, Quick Start and each endpoint's example ──
  type Registered = { api_key: string; account_id: string; deposit_addresses: Record<string, string> };
  const register = async (): Promise<Registered> =>
    (await run({ name: 'seed: curl -X POST /api/v1/register', method: 'POST', path: `${API}/register`, status: 201 })).json as Registered;
  const [a, b, zero] = [await register(), await register(), await register()];
  // The operator funds two of them (`tn admin credit`), and a payment to one waits for its confirmations.
  const operator = openCoreOnFile(file);
  await operator.credit(a.account_id, 20 * USD);
  await operator.credit(b.account_id, 20 * USD);
  await operator.close();
  esplora.pay([{ address: a.deposit_addresses.btc!, sats: 5_000 }]);

  // curl -d sends the form content type; its body is JSON (the seed's Quick Start, and the README's).
  const verified = (await run({
    name: 'seed: POST /verify, Bearer, curl -d JSON',
    method: 'POST',
    path: `${API}/verify`,
    headers: { ...bearer(a.api_key), ...FORM },
    body: '{"platform": "instagram"}',
    status: 200,
  })).json as { order_id: string; status: string };
  expect(verified.status).toBe('completed');
  await run({ name: 'seed: GET /services without a key', method: 'GET', path: `${API}/services`, status: 200 });
  await run({
    name: 'GET /services with X-API-Key (your_price)',
    method: 'GET',
    path: `${API}/services`,
    headers: { 'x-api-key': a.api_key },
    status: 200,
  });
  await run({ name: 'seed: GET /availability', method: 'GET', path: `${API}/availability`, status: 200 });
  const ordered = (await run({
    name: 'seed: POST /order with platform, country, idempotency_key',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(a.api_key), ...JSON_TYPE },
    body: JSON.stringify({ platform: 'instagram', country: 'us', idempotency_key: 'seed-order-1' }),
    status: 201,
  })).json as { order_id: string };
  await run({
    name: 'seed: POST /order/:id/cancel (no body)',
    method: 'POST',
    path: `${API}/order/${ordered.order_id}/cancel`,
    headers: bearer(a.api_key),
    status: 200,
  });
  await run({
    name: 'seed: POST /verify with timeout_seconds, X-API-Key',
    method: 'POST',
    path: `${API}/verify`,
    headers: { 'x-api-key': a.api_key, ...JSON_TYPE },
    body: JSON.stringify({ platform: 'whatsapp', timeout_seconds: 30 }),
    status: 200,
  });
  await run({ name: 'seed: GET /order/:id', method: 'GET', path: `${API}/order/${verified.order_id}`, headers: bearer(a.api_key), status: 200 });
  const batch = (await run({
    name: 'seed: POST /batch with api_key in the body',
    method: 'POST',
    path: `${API}/batch`,
    headers: JSON_TYPE,
    body: JSON.stringify({ api_key: a.api_key, orders: [{ platform: 'instagram' }, { platform: 'whatsapp', country: 'us' }, { platform: 'twitter' }] }),
    status: 200,
  })).json as { results: { ok: boolean; order: { order_id: string } }[] };
  await run({
    name: 'seed: POST /agent with api_key in the body',
    method: 'POST',
    path: `${API}/agent`,
    headers: JSON_TYPE,
    body: JSON.stringify({ api_key: a.api_key, query: 'I need a US verification number' }),
    status: 200,
  });
  await run({ name: 'seed: GET /account, X-API-Key', method: 'GET', path: `${API}/account`, headers: { 'x-api-key': a.api_key }, status: 200 });
  await run({ name: 'seed: GET /usage', method: 'GET', path: `${API}/usage`, headers: bearer(a.api_key), status: 200 });
  await run({
    name: 'seed: PUT /webhook with api_key in the body',
    method: 'PUT',
    path: `${API}/webhook`,
    headers: JSON_TYPE,
    body: JSON.stringify({ api_key: a.api_key, url: 'https://yourserver.com/webhook' }),
    status: 200,
  });
  await run({ name: 'seed: GET /health', method: 'GET', path: `${API}/health`, status: 200 });

  // ── the README: the API table, forms, streams, gateways, the sms-activate protocol ──
  await run({ name: 'README: GET /prices?by=country&platform=…', method: 'GET', path: `${API}/prices?by=country&platform=instagram`, status: 200 });
  await run({
    name: 'README: GET /prices?by=service&country=… with a key',
    method: 'GET',
    path: `${API}/prices?by=service&country=us`,
    headers: bearer(b.api_key),
    status: 200,
  });
  await run({
    name: 'README: GET /orders?status=&limit=',
    method: 'GET',
    path: `${API}/orders?status=completed&page=1&limit=5`,
    headers: bearer(a.api_key),
    status: 200,
  });
  await run({ name: 'README: GET /usage?days=n', method: 'GET', path: `${API}/usage?days=7`, headers: bearer(b.api_key), status: 200 });
  await run({
    name: 'README: a plain form, numbers as text',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(b.api_key), ...FORM },
    body: 'platform=telegram&country=gb&max_price=1.5',
    status: 201,
  });
  const retried = (await run({
    name: 'README: POST /order/:id/retry',
    method: 'POST',
    path: `${API}/order/${verified.order_id}/retry`,
    headers: bearer(a.api_key),
    status: 200,
  })).json as { status: string };
  expect(retried.status).toBe('active');
  await run({
    name: 'cancel with api_key in a form body (the retry ends, completed)',
    method: 'POST',
    path: `${API}/order/${verified.order_id}/cancel`,
    headers: FORM,
    body: `api_key=${a.api_key}`,
    status: 200,
  });
  const streamed = batch.results[0]!.order.order_id;
  await run({
    name: 'README: GET /order/:id/stream until end',
    method: 'GET',
    path: `${API}/order/${streamed}/stream`,
    headers: { ...bearer(a.api_key), accept: 'text/event-stream' },
    stream: { until: 'event: end' },
    status: 200,
  });
  await run({
    name: 'README: GET /events',
    method: 'GET',
    path: `${API}/events`,
    headers: { 'x-api-key': a.api_key, accept: 'text/event-stream' },
    stream: { until: 'retry:' },
    status: 200,
  });
  await run({
    name: 'GET /events resumed with Last-Event-ID',
    method: 'GET',
    path: `${API}/events?last_event_id=msg_none`,
    headers: { ...bearer(a.api_key), 'last-event-id': 'msg_none', accept: 'text/event-stream' },
    stream: { until: 'retry:' },
    status: 200,
  });
  await run({ name: 'README: GET /webhook', method: 'GET', path: `${API}/webhook`, headers: bearer(a.api_key), status: 200 });
  await run({ name: 'README: POST /webhook/test', method: 'POST', path: `${API}/webhook/test`, headers: bearer(a.api_key), status: 200 });
  await run({
    name: 'README: POST /webhook/rotate-secret with api_key in a JSON body',
    method: 'POST',
    path: `${API}/webhook/rotate-secret`,
    headers: JSON_TYPE,
    body: JSON.stringify({ api_key: a.api_key }),
    status: 200,
  });
  await run({ name: 'README: DELETE /webhook', method: 'DELETE', path: `${API}/webhook`, headers: bearer(a.api_key), status: 204 });
  await run({ name: 'README: GET /deposits (one pending)', method: 'GET', path: `${API}/deposits`, headers: bearer(a.api_key), status: 200 });
  await run({ name: 'README: POST /deposits/check', method: 'POST', path: `${API}/deposits/check`, headers: bearer(a.api_key), status: 200 });
  await run({
    name: 'README: the generic gateway curl',
    method: 'POST',
    path: `${API}/inbound/script`,
    headers: { authorization: `Bearer ${GENERIC_TOKEN}`, ...JSON_TYPE },
    body: JSON.stringify({ to: '+447700900123', from: 'Instagram', text: '123456 is your code' }),
    status: 200,
  });
  const jasmin = new URLSearchParams({ token: JASMIN_TOKEN, id: 'j-1', from: '447700900002', to: '447700900401', 'origin-connector': 'smpp', coding: '0', content: '654321 is your code' });
  await run({ name: 'Jasmin: GET with the fields in the query', method: 'GET', path: `${API}/inbound/smsc?${jasmin}`, status: 200 });
  const twilio = { MessageSid: 'SM0001', AccountSid: 'AC0123456789abcdef0123456789abcdef', From: '+15550100001', To: '+15550100501', Body: '111222 is your code', NumMedia: '0' };
  const signature = twilioSignature(`${server.url}${API}/inbound/office`, twilio, TWILIO_TOKEN);
  await run({
    name: 'Twilio: a signed form post',
    method: 'POST',
    path: `${API}/inbound/office`,
    headers: { ...FORM, 'x-twilio-signature': signature },
    body: new URLSearchParams(twilio).toString(),
    status: 200,
  });

  const handler = '/stubs/handler_api.php';
  const query = (params: Record<string, string>): string => `${handler}?${new URLSearchParams(params)}`;
  await run({
    name: 'sms-activate: getBalance, api_key in the query',
    method: 'GET',
    path: query({ api_key: b.api_key, action: 'getBalance' }),
    status: 200,
  });
  const number = (await run({
    name: 'sms-activate: getNumber as a form post',
    method: 'POST',
    path: handler,
    headers: FORM,
    body: new URLSearchParams({ api_key: b.api_key, action: 'getNumber', service: 'ig', country: '187' }).toString(),
    status: 200,
  })).text;
  const activation = /^ACCESS_NUMBER:(\d+):/.exec(number)?.[1] ?? '0';
  await run({
    name: 'sms-activate: getStatus',
    method: 'GET',
    path: query({ api_key: b.api_key, action: 'getStatus', id: activation }),
    status: 200,
  });
  await run({
    name: 'sms-activate: setStatus 8 as multipart',
    method: 'POST',
    path: handler,
    body: { multipart: { api_key: b.api_key, action: 'setStatus', id: activation, status: '8' } },
    status: 200,
  });
  await run({
    name: 'sms-activate: getNumberV2 (JSON) with X-API-Key',
    method: 'GET',
    path: query({ action: 'getNumberV2', service: 'tg', country: '16', orderId: 'v2-1' }),
    headers: { 'x-api-key': b.api_key },
    status: 200,
  });
  await run({ name: 'sms-activate: getCountries', method: 'GET', path: query({ api_key: b.api_key, action: 'getCountries' }), status: 200 });
  await run({
    name: 'sms-activate: a wrong key is BAD_KEY, 200',
    method: 'GET',
    path: query({ api_key: 'vn_notakeynotakeynotakeynotakeynotakey', action: 'getBalance' }),
    status: 200,
  });
  await run({ name: 'GET /openapi.json', method: 'GET', path: `${API}/openapi.json`, status: 200 });

  // ── refusals ──
  await run({ name: 'a wrong key', method: 'GET', path: `${API}/account`, headers: bearer('vn_notakeynotakeynotakeynotakeynotakey'), status: 401 });
  await run({
    name: 'no key at all (it could have been in the body)',
    method: 'POST',
    path: `${API}/order`,
    headers: JSON_TYPE,
    body: '{"platform":"instagram"}',
    status: 401,
  });
  await run({ name: 'an empty order id', method: 'GET', path: `${API}/order/`, headers: bearer(a.api_key), valid: false, status: 400 });
  await run({
    name: 'an empty order id before /cancel',
    method: 'POST',
    path: `${API}/order//cancel`,
    headers: bearer(a.api_key),
    valid: false,
    status: 400,
  });
  await run({
    name: 'a body over 64 KiB',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(a.api_key), ...JSON_TYPE },
    body: JSON.stringify({ platform: 'x'.repeat(70_000) }),
    valid: false,
    status: 413,
  });
  await run({ name: 'no body where one is required', method: 'POST', path: `${API}/order`, headers: bearer(a.api_key), valid: false, status: 400 });
  await run({
    name: 'a content type the API does not read',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(a.api_key), 'content-type': 'application/xml' },
    body: '<order/>',
    valid: false,
    status: 400,
  });
  await run({
    name: 'an unknown form field',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(a.api_key), ...FORM },
    body: 'platform=instagram&surprise=1',
    valid: false,
    status: 400,
  });
  await run({
    name: 'timeout_seconds out of range',
    method: 'POST',
    path: `${API}/verify`,
    headers: { ...bearer(a.api_key), ...JSON_TYPE },
    body: '{"platform":"instagram","timeout_seconds":5}',
    valid: false,
    status: 400,
  });
  await run({
    name: 'an unknown platform',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(a.api_key), ...JSON_TYPE },
    body: '{"platform":"myspace"}',
    status: 400,
  });
  await run({ name: 'an unknown platform in a price list', method: 'GET', path: `${API}/prices?by=country&platform=myspace`, status: 400 });
  await run({
    name: 'a batch of 21',
    method: 'POST',
    path: `${API}/batch`,
    headers: { ...bearer(a.api_key), ...JSON_TYPE },
    body: JSON.stringify({ orders: Array.from({ length: 21 }, () => ({ platform: 'instagram' })) }),
    status: 400,
  });
  await run({ name: 'an order that does not exist', method: 'GET', path: `${API}/order/ord_doesnotexist`, headers: bearer(a.api_key), status: 404 });
  await run({
    name: 'a stream of an order that does not exist',
    method: 'GET',
    path: `${API}/order/ord_doesnotexist/stream`,
    headers: bearer(a.api_key),
    status: 404,
  });
  await run({
    name: 'insufficient balance',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(zero.api_key), ...JSON_TYPE },
    body: '{"platform":"instagram"}',
    status: 402,
  });
  await run({
    name: 'a price above max_price',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(a.api_key), ...JSON_TYPE },
    body: '{"platform":"instagram","max_price":0.01}',
    status: 402,
  });
  await run({
    name: 'cancel of a cancelled order',
    method: 'POST',
    path: `${API}/order/${ordered.order_id}/cancel`,
    headers: bearer(a.api_key),
    status: 409,
  });
  await run({
    name: 'an idempotency key reused for another order',
    method: 'POST',
    path: `${API}/order`,
    headers: { ...bearer(a.api_key), ...JSON_TYPE, 'idempotency-key': 'seed-order-1' },
    body: '{"platform":"whatsapp"}',
    status: 422,
  });
  const limited = await run({ name: 'over a route rate limit', method: 'GET', path: `${API}/usage`, headers: bearer(a.api_key), status: 429 });
  expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0);
  await run({
    name: 'an inbound source that does not exist',
    method: 'POST',
    path: `${API}/inbound/nobody`,
    headers: { authorization: `Bearer ${GENERIC_TOKEN}`, ...JSON_TYPE },
    body: '{}',
    status: 404,
  });
  await run({
    name: 'an inbound request with a wrong token',
    method: 'POST',
    path: `${API}/inbound/script`,
    headers: { authorization: 'Bearer tng_not-the-token-of-this-source', ...JSON_TYPE },
    body: '{"to":"+447700900123","from":"x","text":"1"}',
    status: 403,
  });
  await run({ name: 'a path the document does not have', method: 'GET', path: `${API}/nothing-here`, valid: false, status: 404 });
}

// ── the document and the routes ───────────────────────────────────────────────────────────────

/** The routes of `app.printRoutes({ commonPrefix: false })`: a tree, one node a line. */
function routesOf(tree: string): { method: string; path: string }[] {
  const routes: { method: string; path: string }[] = [];
  const stack: string[] = [];
  for (const line of tree.split('\n')) {
    const m = /^((?:│ {3}| {4})*)(?:├── |└── )(\S+)(?: \(([^)]*)\))?\s*$/.exec(line);
    if (!m) continue;
    const depth = m[1]!.length / 4;
    stack.length = depth;
    stack.push(m[2]!);
    const path = stack.join('');
    for (const method of (m[3] ?? '').split(',').map((s) => s.trim()).filter(Boolean)) routes.push({ method, path });
  }
  return routes;
}

/** Every `$ref` string anywhere in a JSON value. */
function refsIn(value: unknown, out: string[] = []): string[] {
  if (Array.isArray(value)) for (const v of value) refsIn(v, out);
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === '$ref' && typeof v === 'string') out.push(v);
      else refsIn(v, out);
    }
  }
  return out;
}

function resolvePointer(root: unknown, ref: string): unknown {
  if (!ref.startsWith('#')) return undefined;
  let node: unknown = root;
  for (const raw of ref.slice(1).split('/').slice(1)) {
    const key = decodeURIComponent(raw).replace(/~1/g, '/').replace(/~0/g, '~');
    if (!node || typeof node !== 'object' || !Object.hasOwn(node, key)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return node;
}

describe('the OpenAPI document and the routes', () => {
  it('has an operation for every route the app registered and nothing else; every $ref resolves inside it', async () => {
    const t = await makeApp();
    const built = (await t.app.inject({ method: 'GET', url: `${API}/openapi.json` })).json<Document>();
    expect(built.openapi).toMatch(/^3\.1\.\d+$/);
    // HEAD is fastify's automatic twin of GET.
    const registered = routesOf(t.app.printRoutes({ commonPrefix: false })).filter((r) => r.method !== 'HEAD');
    expect(registered.length).toBeGreaterThanOrEqual(28);
    expect(operationsOf(built).sort()).toEqual(registered.map((r) => `${r.method} ${r.path.replace(/:(\w+)/g, '{$1}')}`).sort());

    for (const [path, item] of Object.entries(built.paths)) {
      for (const [method, op] of Object.entries(item)) {
        const where = `${method.toUpperCase()} ${path}`;
        // Path parameters are declared; every operation answers something it declares.
        for (const name of path.match(/\{\w+\}/g) ?? []) expect(op.parameters?.some((p) => p.in === 'path' && `{${p.name}}` === name), where).toBe(true);
        expect(Object.keys(op.responses).some((status) => status.startsWith('2')), where).toBe(true);
        // A body is JSON and a form everywhere in the REST API (curl -d sends a form).
        if (op.requestBody && path.startsWith(API)) expect(Object.keys(op.requestBody.content), where).toEqual(expect.arrayContaining(['application/x-www-form-urlencoded']));
      }
    }
    // Every operation that takes a body documents its schema, with its required fields.
    const bodies: [string, string, string[]][] = [
      ['post', '/order', ['platform']],
      ['post', '/verify', ['platform']],
      ['post', '/batch', ['orders']],
      ['post', '/agent', ['query']],
      ['put', '/webhook', ['url']],
    ];
    for (const [method, path, required] of bodies) {
      const schema = built.paths[API + path]![method]!.requestBody?.content['application/json']?.schema as { required?: string[]; properties?: object } | undefined;
      expect(schema, `${method} ${path}`).toBeDefined();
      expect(schema!.required, `${method} ${path}`).toEqual(expect.arrayContaining(required));
      expect(Object.keys(schema!.properties ?? {}), `${method} ${path}`).toEqual(expect.arrayContaining([...required, 'api_key']));
    }

    const refs = refsIn(built);
    expect(refs.length).toBeGreaterThan(0);
    for (const ref of new Set(refs)) {
      expect(ref.startsWith('#/'), ref).toBe(true);
      expect(resolvePointer(built, ref), ref).toBeDefined();
    }
  });
});
