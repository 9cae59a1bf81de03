/**
 * End-to-end tests of the `tn` binary: each test spawns `node bin/tn.js …` (the compiled dist/,
 * so run `npm run build` first) with stdout and stderr as pipes, in its own temporary config and
 * data directories, with no TN_* variable from the outside. They check what API.md §4 and §7 fix:
 * stdout carries data only, `--json` prints exactly one document, errors have one shape, and every
 * failure has its exit code.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import {
  ANSI,
  FIRST_USE,
  ORDER_FIELDS,
  ROOT,
  makeSandbox,
  orderShapeProblems,
  parseOneJson,
  readJsonFile,
  runProgram,
  type AccountJson,
  type ErrorJson,
  type OrderJson,
  type RunResult,
} from './cli-helpers.js';

const ORDER_ID = /^ord_\w+$/;
const CODE6 = /^\d{6}\n$/;

/** Exit code plus what was printed, so a failing assertion shows everything at once. */
const outcome = (r: RunResult): { code: number | null; stdout: string; stderr: string } => ({ code: r.code, stdout: r.stdout, stderr: r.stderr });

const lines = (text: string): string[] => text.split('\n').filter((l) => l !== '');

/** A failure: the exit code, nothing on stdout, and a message on stderr. */
function expectFailure(r: RunResult, code: number, stderr?: RegExp | string): void {
  expect(outcome(r)).toMatchObject({ code, stdout: '' });
  expect(r.stderr.trim()).not.toBe('');
  if (stderr !== undefined) expect(r.stderr).toMatch(stderr);
}

/** A `--json` failure: the exit code, and exactly `{ "error": { code, message, status, … } }` on stdout. */
function expectJsonError(r: RunResult, exit: number, code: string, status: number): ErrorJson['error'] {
  expect(r.code, r.stderr).toBe(exit);
  const body = parseOneJson(r.stdout) as ErrorJson;
  expect(Object.keys(body)).toEqual(['error']);
  expect(body.error).toMatchObject({ code, status, message: expect.any(String) });
  expect(body.error.message).not.toBe('');
  return body.error;
}

function expectOrder(value: unknown): OrderJson {
  expect(orderShapeProblems(value)).toEqual([]);
  return value as OrderJson;
}

const todayUtc = (): string => new Date().toISOString().slice(0, 10);

describe.concurrent('tn verify', () => {
  it('piped, prints only the code and a newline on stdout; the first use says so on stderr', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const first = await tn.run(['verify', 'instagram']);
    expect(outcome(first)).toMatchObject({ code: 0, stdout: expect.stringMatching(CODE6) });
    expect(first.stderr).toContain(FIRST_USE);

    const again = await tn.run(['verify', 'instagram']);
    expect(outcome(again)).toMatchObject({ code: 0, stdout: expect.stringMatching(CODE6) });
    expect(again.stderr).not.toContain(FIRST_USE);
    const account = await tn.json<AccountJson>(['account']);
    expect(account.body.stats).toMatchObject({ orders: 2, completed: 2 });
    expect(account.body.balance).toBe(9.76);
  });

  it('-q keeps stderr empty, stdout is still the code', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['-q', 'verify', 'ig']);
    expect(outcome(r)).toEqual({ code: 0, stdout: expect.stringMatching(CODE6), stderr: '' });
  });

  it('--json prints exactly one JSON document: the completed order with every field of API.md §3', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.json<OrderJson>(['verify', 'instagram']);
    expect(r.code, r.stderr).toBe(0);
    const order = expectOrder(r.body);
    for (const field of ORDER_FIELDS) expect(order).toHaveProperty(field);
    expect(order).toMatchObject({
      order_id: expect.stringMatching(ORDER_ID),
      platform: 'instagram',
      price: 0.12,
      status: 'completed',
      code: expect.stringMatching(/^\d{6}$/),
      refunded: false,
      completed_at: expect.any(String),
    });
    expect(order.codes).toEqual([order.code]);
    expect(order.sms).toContain(order.code);
    expect(Date.parse(order.expires_at) - Date.parse(order.created_at)).toBe(300_000);
    expect(r.stdout).not.toMatch(ANSI);
  });

  it('TN_SIM_DELAY_MS that is not a number is a usage error (exit 2)', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: 'soon' });
    expectFailure(await tn.run(['verify', 'ig']), 2, /TN_SIM_DELAY_MS/);
  });
});

describe.concurrent('tn order, status, wait, retry, cancel', () => {
  it('order → status → wait → retry --wait → cancel of a completed order', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);

    const json = await tn.json<OrderJson>(['order', 'whatsapp', '--country', 'us']);
    expect(json.code, json.stderr).toBe(0);
    expect(expectOrder(json.body)).toMatchObject({
      platform: 'whatsapp',
      country: 'us',
      price: 0.25,
      status: 'active',
      code: null,
      sms: null,
      codes: [],
      refunded: false,
      completed_at: null,
    });
    expect(json.body.phone).toMatch(/^\+1\d{10}$/);

    const piped = await tn.run(['order', 'whatsapp', '--country', 'us']);
    expect(outcome(piped)).toMatchObject({ code: 0, stdout: expect.stringMatching(/^ord_\w+\t\+1\d{10}\n$/) });
    const [id, phone] = piped.stdout.trimEnd().split('\t') as [string, string];

    const status = await tn.run(['status', id]);
    expect(status.code, status.stderr).toBe(0);
    const fields = status.stdout.replace(/\n$/, '').split('\t');
    expect(fields.slice(0, 4)).toEqual([id, expect.stringMatching(/^(active|completed)$/), 'whatsapp', phone]);
    expect(status.stdout.endsWith('\n') && lines(status.stdout).length === 1).toBe(true);

    const wait = await tn.run(['wait', id]);
    expect(outcome(wait)).toMatchObject({ code: 0, stdout: expect.stringMatching(CODE6) });
    const firstCode = wait.stdout.trim();

    const completed = await tn.json<OrderJson>(['status', id]);
    expect(completed.body).toMatchObject({ order_id: id, status: 'completed', code: firstCode, codes: [firstCode], refunded: false });

    const retry = await tn.run(['retry', id, '--wait']);
    expect(outcome(retry)).toMatchObject({ code: 0, stdout: expect.stringMatching(CODE6) });
    const secondCode = retry.stdout.trim();

    const after = await tn.json<OrderJson>(['status', id]);
    expect(expectOrder(after.body)).toMatchObject({ status: 'completed', code: secondCode, codes: [firstCode, secondCode], phone, price: 0.25 });

    const cancel = await tn.run(['cancel', id]);
    expectFailure(cancel, 9, id);
    expectJsonError(await tn.run(['cancel', id, '--json']), 9, 'order_not_active', 409);

    // Retry is free: two orders of $0.25 in all.
    const account = await tn.json<AccountJson>(['account']);
    expect(account.body.balance).toBe(9.5);
  });

  it('cancel of an active order refunds it; a second cancel, a retry and a wait then fail', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const ordered = await tn.json<OrderJson>(['order', 'whatsapp']);
    expect(ordered.code, ordered.stderr).toBe(0);
    const id = ordered.body.order_id;
    expect((await tn.json<AccountJson>(['account'])).body.balance).toBe(9.75);

    // Only a completed order can be retried (409 → 9).
    expectFailure(await tn.run(['retry', id]), 9, /cannot be retried/);

    const cancel = await tn.run(['cancel', id]);
    expect(outcome(cancel)).toEqual({ code: 0, stdout: `${id}\tcancelled\n`, stderr: '' });

    const status = await tn.json<OrderJson>(['status', id]);
    expect(expectOrder(status.body)).toMatchObject({ status: 'cancelled', refunded: true, code: null, codes: [] });
    const account = await tn.json<AccountJson>(['account']);
    expect(account.body.balance).toBe(10);
    expect(account.body.stats).toMatchObject({ orders: 1, cancelled: 1, spent: 0 });

    expectFailure(await tn.run(['cancel', id]), 9, /cancelled/);
    const wait = await tn.run(['wait', id]);
    expectFailure(wait, 5, /cancelled/);
    expect(wait.stderr).toContain('$0.25 was refunded');
  });

  it('cancel --json of an active order prints the cancelled, refunded order', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const { body } = await tn.json<OrderJson>(['order', 'telegram', '--country', 'gb']);
    const cancel = await tn.json<OrderJson>(['cancel', body.order_id]);
    expect(cancel.code, cancel.stderr).toBe(0);
    expect(expectOrder(cancel.body)).toMatchObject({ order_id: body.order_id, country: 'gb', status: 'cancelled', refunded: true });
  });

  it('--country any is answered with the real country', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const r = await tn.json<OrderJson>(['order', 'ig', '--country', 'any']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body.country).not.toBe('any');
    expect(r.body.country).toMatch(/^[a-z]{2}$/);
  });
});

describe.concurrent('exit codes', () => {
  it('2: an unknown platform (message on stderr, nothing on stdout, nothing ordered)', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['verify', 'instagrm']);
    expectFailure(r, 2, 'Unknown platform "instagrm"');
    expect(r.stderr).toMatch(/Did you mean instagram/);
    expectFailure(await tn.run(['order', 'nosuchplatform']), 2, /Unknown platform/);
    const account = await tn.json<AccountJson>(['account']);
    expect(account.body).toMatchObject({ balance: 10, stats: { orders: 0 } });
  });

  it('2: an unknown option, an unknown command, a missing argument', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['order', 'ig', '--bogus']), 2, "unknown option '--bogus'");
    expectFailure(await tn.run(['--bogus', 'services']), 2, /unknown option/);
    expectFailure(await tn.run(['frobnicate']), 2, "unknown command 'frobnicate'");
    expectFailure(await tn.run(['verify']), 2, /missing required argument/);
    expectFailure(await tn.run(['status', 'not an id!']), 2, /order id/);
  });

  it('2: a bad --timeout, --days or endpoint', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['verify', 'ig', '--timeout', '5']), 2, /timeout must be a whole number from 30 to 300/);
    expectFailure(await tn.run(['verify', 'ig', '--timeout', 'abc']), 2, /timeout/);
    expectFailure(await tn.run(['verify', 'ig', '--timeout', '301']), 2, /timeout/);
    expectFailure(await tn.run(['wait', 'ord_x', '--timeout', '0']), 2, /timeout/);
    expectFailure(await tn.run(['retry', 'ord_x', '--wait', '--timeout', '-3']), 2);
    expectFailure(await tn.run(['usage', '--days', '0']), 2, /days/);
    expectFailure(await tn.run(['--endpoint', 'ftp://example.com', 'account']), 2, /endpoint/i);
    // Nothing was ordered or charged by any of them.
    expect((await tn.json<AccountJson>(['account'])).body).toMatchObject({ balance: 10, stats: { orders: 0 } });
  });

  it('2: a bad country', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['order', 'ig', '--country', 'zz']), 2, /Unknown country "zz"/);
    expectFailure(await tn.run(['verify', 'ig', '--country', 'xx1']), 2, /Unknown country/);
    expectJsonError(await tn.run(['order', 'ig', '--country', 'zz', '--json']), 2, 'unknown_country', 400);
  });

  it('3: an API key that the broker does not know', async ({ onTestFinished }) => {
    const key = 'vn_' + 'bogus'.padEnd(37, 'x');
    expect(key).toHaveLength(40);
    const tn = await makeSandbox(onTestFinished, { TN_API_KEY: key });
    expectFailure(await tn.run(['account']), 3, /Invalid API key/);
    expectFailure(await tn.run(['order', 'ig']), 3);
    expectJsonError(await tn.run(['account', '--json']), 3, 'unauthorized', 401);
  });

  it('4: insufficient balance once the $10.00 are spent; --json adds balance and price', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const batch = await tn.run(['batch', ...Array<string>(20).fill('coinbase')]);
    expect(batch.code, batch.stderr).toBe(0);
    expect(lines(batch.stdout)).toHaveLength(20);
    for (const line of lines(batch.stdout)) expect(line).toMatch(/^ok\tord_\w+\tcoinbase\t\+\d+\t\$0\.50$/);
    expect(batch.stderr).toContain('20 of 20 ordered, $10.00 in all.');
    expect((await tn.json<AccountJson>(['account'])).body.balance).toBe(0);

    expectFailure(await tn.run(['order', 'instagram']), 4, 'Balance $0.00 is below the price $0.12.');
    const json = await tn.run(['order', 'instagram', '--json']);
    expect(json.code).toBe(4);
    expect(parseOneJson(json.stdout)).toEqual({
      error: { code: 'insufficient_balance', message: 'Balance $0.00 is below the price $0.12.', status: 402, balance: 0, price: 0.12 },
    });
    expectFailure(await tn.run(['verify', 'instagram']), 4);

    // Nothing was written by the refused orders.
    const account = await tn.json<AccountJson>(['account']);
    expect(account.body).toMatchObject({ balance: 0, stats: { orders: 20, spent: 10 } });
  });

  it('5: the wait times out (the SMS never comes), and a wait on a cancelled order', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_NO_SMS_RATE: '1' });
    const order = await tn.run(['order', 'instagram']);
    expect(order.code, order.stderr).toBe(0);
    const id = order.stdout.split('\t')[0]!;

    const started = Date.now();
    const wait = await tn.run(['wait', id, '--timeout', '1']);
    expect(Date.now() - started).toBeLessThan(10_000);
    expectFailure(wait, 5, /No code yet.*timed out/);

    const waitJson = await tn.run(['wait', id, '--timeout', '1', '--json']);
    expect(waitJson.code).toBe(5);
    expect(expectOrder(parseOneJson(waitJson.stdout))).toMatchObject({ order_id: id, status: 'active', code: null });

    expect((await tn.run(['cancel', id])).code).toBe(0);
    expectFailure(await tn.run(['wait', id]), 5, new RegExp(`No code: order ${id} was cancelled; \\$0\\.12 was refunded\\.`));
  });

  it('6: an order that does not exist', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['status', 'ord_doesnotexist']), 6, 'Order ord_doesnotexist not found.');
    expectFailure(await tn.run(['wait', 'ord_doesnotexist']), 6);
    expectFailure(await tn.run(['cancel', 'ord_doesnotexist']), 6);
    expectFailure(await tn.run(['retry', 'ord_doesnotexist']), 6);
    expectJsonError(await tn.run(['status', 'ord_doesnotexist', '--json']), 6, 'not_found', 404);
  });

  it('8: no stock for the platform in that country', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['order', 'instagram', '--country', 'de']), 8, /No Instagram numbers are available in Germany/);
    expectFailure(await tn.run(['verify', 'instagram', '--country', 'de']), 8);
    expectJsonError(await tn.run(['order', 'instagram', '--country', 'de', '--json']), 8, 'no_numbers', 503);
    expect((await tn.json<AccountJson>(['account'])).body).toMatchObject({ balance: 10, stats: { orders: 0 } });
  });

  it('9: cancel twice', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const id = (await tn.run(['order', 'ig'])).stdout.split('\t')[0]!;
    expect((await tn.run(['cancel', id])).code).toBe(0);
    expectFailure(await tn.run(['cancel', id]), 9, /cannot be cancelled/);
    expect((await tn.json<AccountJson>(['account'])).body.balance).toBe(10);
  });

  it('9: an idempotency key reused with other parameters; the same parameters give the same order, charged once', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const first = await tn.run(['order', 'ig', '--idempotency-key', 'k']);
    expect(first.code, first.stderr).toBe(0);
    const again = await tn.run(['order', 'ig', '--idempotency-key', 'k']);
    expect(outcome(again)).toMatchObject({ code: 0, stdout: first.stdout });
    const againJson = await tn.json<OrderJson>(['order', 'ig', '--idempotency-key', 'k']);
    expect(againJson.body.order_id).toBe(first.stdout.split('\t')[0]);

    expectFailure(await tn.run(['order', 'wa', '--idempotency-key', 'k']), 9, /idempotency key/i);
    expectJsonError(await tn.run(['order', 'wa', '--idempotency-key', 'k', '--json']), 9, 'idempotency_key_reused', 422);

    const account = await tn.json<AccountJson>(['account']);
    expect(account.body).toMatchObject({ balance: 9.88, stats: { orders: 1 } });
  });

  it("6: another account's order is not found, and idempotency keys belong to one account", async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    // A second config dir on the same database, with an account of its own (`tn register`): the
    // sandbox account is one per database, so a bare second config dir would share it.
    const other = { env: { TN_CONFIG_DIR: join(tn.root, 'other-config') } };
    expect((await tn.run(['register'], other)).code).toBe(0);
    const mine = await tn.run(['order', 'ig', '--idempotency-key', 'shared']);
    expect(mine.code, mine.stderr).toBe(0);
    const id = mine.stdout.split('\t')[0]!;
    for (const command of ['status', 'wait', 'cancel', 'retry']) {
      const r = await tn.run([command, id], other);
      expectFailure(r, 6, `Order ${id} not found.`);
    }
    expectJsonError(await tn.run(['status', id, '--json'], other), 6, 'not_found', 404);
    const theirs = await tn.run(['order', 'wa', '--idempotency-key', 'shared'], other);
    expect(theirs.code, theirs.stderr).toBe(0);
    expect(theirs.stdout.split('\t')[0]).not.toBe(id);
    // The first account's order is untouched.
    expect((await tn.json<OrderJson>(['status', id])).body).toMatchObject({ status: 'active', refunded: false });
    const audit = await tn.run(['admin', 'audit']);
    expect(audit.code).toBe(0);
    expect(audit.stdout).toMatch(/^OK: 2 accounts, 2 orders/);
  });

  it('1: tn admin audit finds a broken invariant', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expect((await tn.run(['verify', 'ig'])).code).toBe(0);
    const db = new Database(tn.dbFile);
    try {
      db.prepare('UPDATE accounts SET balance = balance + 1000000').run();
    } finally {
      db.close();
    }
    const audit = await tn.run(['admin', 'audit']);
    expect(audit.code).toBe(1);
    expect(audit.stdout).toMatch(/balance .* but its ledger sums to/);
    expect(audit.stdout).toMatch(/1 violation/);
    const json = await tn.json<{ ok: boolean; violations: string[] }>(['admin', 'audit']);
    expect(json.code).toBe(1);
    expect(json.body).toMatchObject({ ok: false, violations: [expect.any(String)] });
  });
});

describe.concurrent('--json errors: exactly { "error": { code, message, status } } on stdout', () => {
  const cases: { name: string; args: string[]; exit: number; code: string; status: number }[] = [
    { name: 'unknown platform', args: ['verify', 'instagrm'], exit: 2, code: 'unknown_platform', status: 400 },
    { name: 'unknown country', args: ['order', 'ig', '--country', 'zz'], exit: 2, code: 'unknown_country', status: 400 },
    { name: 'unknown option', args: ['order', 'ig', '--bogus'], exit: 2, code: 'invalid_request', status: 400 },
    { name: 'unknown command', args: ['frobnicate'], exit: 2, code: 'invalid_request', status: 400 },
    { name: 'missing argument', args: ['verify'], exit: 2, code: 'invalid_request', status: 400 },
    { name: 'bad --timeout', args: ['verify', 'ig', '--timeout', 'abc'], exit: 2, code: 'invalid_request', status: 400 },
    { name: 'bad config value', args: ['config', 'set', 'timeout', '5'], exit: 2, code: 'invalid_request', status: 400 },
    { name: 'unknown config key', args: ['config', 'get', 'colour'], exit: 2, code: 'invalid_request', status: 400 },
    { name: 'batch too large', args: ['batch', ...Array<string>(21).fill('ig')], exit: 2, code: 'batch_too_large', status: 400 },
    { name: 'unknown help topic', args: ['help', 'nonsense'], exit: 2, code: 'invalid_request', status: 400 },
    { name: 'not found', args: ['status', 'ord_doesnotexist'], exit: 6, code: 'not_found', status: 404 },
    { name: 'no stock', args: ['order', 'ig', '--country', 'de'], exit: 8, code: 'no_numbers', status: 503 },
    { name: 'admin credit of an unknown account', args: ['admin', 'credit', 'acc_nobody', '1'], exit: 6, code: 'not_found', status: 404 },
  ];
  for (const c of cases) {
    it(`${c.name}: tn ${c.args.slice(0, 4).join(' ')} --json → exit ${c.exit}, ${c.code}`, async ({ onTestFinished }) => {
      const tn = await makeSandbox(onTestFinished);
      const r = await tn.run([...c.args, '--json']);
      expectJsonError(r, c.exit, c.code, c.status);
      expect(r.stdout).not.toMatch(ANSI);
    });
  }

  it('--json before the command works the same', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectJsonError(await tn.run(['--json', 'status', 'ord_doesnotexist']), 6, 'not_found', 404);
  });
});

describe.concurrent('tn batch', () => {
  it('piped: one tab-separated ok line per item, in order; a summary on stderr', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['batch', 'instagram', 'whatsapp', 'telegram']);
    expect(r.code, r.stderr).toBe(0);
    const rows = lines(r.stdout).map((l) => l.split('\t'));
    expect(rows).toEqual([
      ['ok', expect.stringMatching(ORDER_ID), 'instagram', expect.stringMatching(/^\+\d+$/), '$0.12'],
      ['ok', expect.stringMatching(ORDER_ID), 'whatsapp', expect.stringMatching(/^\+\d+$/), '$0.25'],
      ['ok', expect.stringMatching(ORDER_ID), 'telegram', expect.stringMatching(/^\+\d+$/), '$0.30'],
    ]);
    expect(r.stdout.endsWith('\n')).toBe(true);
    expect(r.stderr).toContain('3 of 3 ordered, $0.67 in all.');
    expect(new Set(rows.map((row) => row[1])).size).toBe(3);
  });

  it('`-` reads the platforms from stdin', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['batch', '-'], { input: 'ig\nwa\n' });
    expect(r.code, r.stderr).toBe(0);
    expect(lines(r.stdout).map((l) => l.split('\t')[2])).toEqual(['instagram', 'whatsapp']);
    expect((await tn.run(['batch', '-'], { input: '' })).code).toBe(2);
  });

  it('platform:country items and --country for the others; a batch where every item fails exits with its code', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const r = await tn.json<{ results: { ok: boolean; order?: OrderJson }[]; total_price: number }>(['batch', 'wa:gb', 'wa:us', 'ig', '--country', 'fr']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body.results.map((x) => x.order?.country)).toEqual(['gb', 'us', 'fr']);
    expect(r.body.total_price).toBe(0.62);
    const none = await tn.run(['batch', 'ig', 'wa', '--country', 'de']);
    expect(none.code).toBe(8);
    expect(lines(none.stdout).map((l) => l.split('\t')[0])).toEqual(['error', 'error']);
    expect(none.stderr).toContain('0 of 2 ordered, $0.00 in all.');
  });

  it('an unknown platform exits 2 but the other items are still ordered', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['batch', 'ig', 'nope', 'wa']);
    expect(r.code).toBe(2);
    const rows = lines(r.stdout).map((l) => l.split('\t'));
    expect(rows.map((row) => row[0])).toEqual(['ok', 'error', 'ok']);
    expect(rows[1]).toEqual(['error', '', 'nope', '', expect.stringMatching(/^unknown_platform: /)]);
    expect(r.stderr).toContain('2 of 3 ordered, $0.37 in all.');
    expect((await tn.json<AccountJson>(['account'])).body).toMatchObject({ balance: 9.63, stats: { orders: 2 } });

    const json = await tn.json<{ results: ({ ok: true; order: OrderJson } | { ok: false; error: { code: string; message: string } })[]; total_price: number }>([
      'batch',
      'tg',
      'nope',
    ]);
    expect(json.code).toBe(2);
    expect(json.body.results).toHaveLength(2);
    expect(json.body.results[0]).toMatchObject({ ok: true, order: { platform: 'telegram', status: 'active' } });
    expect(json.body.results[1]).toMatchObject({ ok: false, error: { code: 'unknown_platform', message: expect.any(String) } });
    expect(json.body.total_price).toBe(0.3);
  });
});

describe.concurrent('catalogue and account', () => {
  it('tn services: 34 tab-separated lines piped; --json with your_price', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['services']);
    expect(r.code, r.stderr).toBe(0);
    const rows = lines(r.stdout);
    expect(rows).toHaveLength(34);
    for (const row of rows) expect(row).toMatch(/^[a-z]+\t[^\t]+\t\$\d+\.\d{2,6}\t\$\d+\.\d{2,6}$/);
    expect(rows[0]).toBe('instagram\tInstagram\t$0.12\t$0.12');

    const json = await tn.json<{ service: string; total_platforms: number; services: { platform: string; name: string; price: number; your_price: number }[] }>([
      'services',
    ]);
    expect(json.code).toBe(0);
    expect(json.body).toMatchObject({ service: expect.any(String), total_platforms: 34 });
    expect(json.body.services).toHaveLength(34);
    for (const s of json.body.services) {
      expect(s).toEqual({ platform: expect.any(String), name: expect.any(String), price: expect.any(Number), your_price: expect.any(Number) });
      expect(s.your_price).toBe(s.price); // Standard tier: no discount
    }
    expect(json.body.services.find((s) => s.platform === 'whatsapp')).toMatchObject({ name: 'WhatsApp', price: 0.25 });
  });

  it('tn availability --json: the 34 platforms', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.json<{ platforms: { platform: string; success_rate: number | null; stock: number; median_delivery_seconds: number | null }[] }>([
      'availability',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body.platforms).toHaveLength(34);
    for (const p of r.body.platforms) {
      expect(p).toMatchObject({ platform: expect.any(String), stock: expect.any(Number) });
      expect(p.success_rate === null || (p.success_rate >= 0 && p.success_rate <= 1)).toBe(true);
      expect(p.median_delivery_seconds === null || typeof p.median_delivery_seconds === 'number').toBe(true);
    }
    const services = await tn.json<{ services: { platform: string }[] }>(['services']);
    expect(r.body.platforms.map((p) => p.platform).sort()).toEqual(services.body.services.map((s) => s.platform).sort());
    const piped = await tn.run(['availability']);
    expect(lines(piped.stdout)).toHaveLength(34);
  });

  it('tn account --json on a fresh sandbox: the shape of GET /account, $10.00', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.json<AccountJson>(['account']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body).toMatchObject({
      account_id: expect.stringMatching(/^acc_\w+$/),
      balance: 10,
      tier: 'Standard',
      discount_percent: 0,
      completed_orders: 0,
      next_tier: { tier: 'Silver', orders_needed: 20 },
      stats: { orders: 0, completed: 0, cancelled: 0, expired: 0, failed: 0, spent: 0 },
      deposit_addresses: expect.any(Object),
      webhook: null,
      recent_orders: [],
    });
    expect(r.stderr).toContain(FIRST_USE);

    const piped = await tn.run(['account']);
    expect(piped.code).toBe(0);
    expect(lines(piped.stdout)).toContain(`account_id\t${r.body.account_id}`);
    expect(lines(piped.stdout)).toContain('balance\t10');
  });

  it('tn account --json lists recent orders (at most 10)', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    expect((await tn.run(['batch', ...Array<string>(12).fill('fb')])).code).toBe(0);
    const r = await tn.json<AccountJson>(['account']);
    expect(r.body.recent_orders).toHaveLength(10);
    for (const o of r.body.recent_orders) expectOrder(o);
    expect(r.body.stats.orders).toBe(12);
    expect(r.body.balance).toBe(8.8);
  });

  it('tn usage --days 7 --json: 7 daily entries ending today, and the orders made', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const before = todayUtc();
    expect((await tn.run(['verify', 'ig'])).code).toBe(0);
    const r = await tn.json<{
      days: number;
      platforms: { platform: string; orders: number; completed: number; spent: number; success_rate: number | null }[];
      daily: { date: string; orders: number; completed: number; spent: number }[];
    }>(['usage', '--days', '7']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body.days).toBe(7);
    expect(r.body.daily).toHaveLength(7);
    const dates = r.body.daily.map((d) => d.date);
    for (let i = 1; i < dates.length; i++) expect(Date.parse(dates[i]!) - Date.parse(dates[i - 1]!)).toBe(86_400_000);
    expect([before, todayUtc()]).toContain(dates.at(-1));
    expect(r.body.daily.at(-1)).toMatchObject({ orders: 1, completed: 1, spent: 0.12 });
    expect(r.body.platforms).toEqual([{ platform: 'instagram', orders: 1, completed: 1, spent: 0.12, success_rate: 1 }]);
  });
});

describe.concurrent('tn agent', () => {
  it('"3 telegram numbers from the UK under $0.50" orders 3 numbers in gb', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const r = await tn.json<{ understood: boolean; intent: string; interpretation: Record<string, unknown>; message: string; orders: OrderJson[] }>([
      'agent',
      '3 telegram numbers from the UK under $0.50',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.body).toMatchObject({
      understood: true,
      intent: 'order',
      interpretation: { platform: 'telegram', country: 'gb', quantity: 3, max_price: 0.5 },
      message: expect.any(String),
    });
    expect(r.body.orders).toHaveLength(3);
    for (const o of r.body.orders) {
      expect(expectOrder(o)).toMatchObject({ platform: 'telegram', country: 'gb', status: 'active' });
      expect(o.price).toBeLessThanOrEqual(0.5);
    }
    expect((await tn.json<AccountJson>(['account'])).body.stats.orders).toBe(3);
  });

  it('piped, prints one order line per number on stdout', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished, { TN_SIM_DELAY_MS: '60000' });
    const r = await tn.run(['agent', '2 whatsapp numbers in the US']);
    expect(r.code, r.stderr).toBe(0);
    const rows = lines(r.stdout).map((l) => l.split('\t'));
    expect(rows).toHaveLength(2);
    for (const row of rows) expect(row.slice(0, 3)).toEqual([expect.stringMatching(ORDER_ID), 'active', 'whatsapp']);
  });

  it('questions about balance and prices are answered without spending', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const balance = await tn.json<{ understood: boolean; intent: string; balance: number }>(['agent', "what's my balance"]);
    expect(balance.code, balance.stderr).toBe(0);
    expect(balance.body).toMatchObject({ understood: true, intent: 'balance', balance: 10 });
    const prices = await tn.json<{ understood: boolean; intent: string; interpretation: object; prices: { platform: string; price: number }[] }>([
      'agent',
      'how much is instagram in germany?',
    ]);
    expect(prices.code, prices.stderr).toBe(0);
    expect(prices.body).toMatchObject({ understood: true, intent: 'prices', interpretation: { platform: 'instagram', country: 'de' } });
    expect(prices.body.prices).toContainEqual(expect.objectContaining({ platform: 'instagram', price: 0.12 }));
    expect((await tn.json<AccountJson>(['account'])).body).toMatchObject({ balance: 10, stats: { orders: 0 } });
  });

  it('an order it understands but cannot fill exits with that error (no stock → 8)', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['agent', '3 telegram numbers from germany']);
    expect(r.code).toBe(8);
    expect(r.stdout + r.stderr).toMatch(/No Telegram numbers are available in Germany/);
    expect(r.stdout).not.toMatch(/^ord_/m);
  });

  it('a query it does not understand exits 2 and spends nothing', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['agent', 'blah blah frobnicate the wibble']);
    expectFailure(r, 2, /Not understood/);
    const json = await tn.json<{ understood: boolean; suggestions: string[] }>(['agent', 'blah blah frobnicate the wibble']);
    expect(json.code).toBe(2);
    expect(json.body).toMatchObject({ understood: false, suggestions: expect.any(Array) });
    expect((await tn.json<AccountJson>(['account'])).body).toMatchObject({ balance: 10, stats: { orders: 0 } });
  });
});

describe.concurrent('tn config', () => {
  it('the config file has mode 0600 after first use and after config set; country then applies to orders', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const path = await tn.run(['config', 'path']);
    expect(path.code).toBe(0);
    const file = path.stdout.trim();
    expect(path.stdout).toBe(join(tn.configDir, 'config.json') + '\n');

    expect((await tn.run(['account'])).code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const set = await tn.run(['config', 'set', 'country', 'gb']);
    expect(outcome(set)).toEqual({ code: 0, stdout: '', stderr: '' });
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    expect(outcome(await tn.run(['config', 'get', 'country']))).toMatchObject({ code: 0, stdout: 'gb\n' });

    const order = await tn.json<OrderJson>(['order', 'ig']);
    expect(order.body).toMatchObject({ country: 'gb', phone: expect.stringMatching(/^\+44/) });
    const verify = await tn.json<OrderJson>(['verify', 'ig']);
    expect(verify.body).toMatchObject({ country: 'gb', status: 'completed' });
    // An explicit --country still wins.
    expect((await tn.json<OrderJson>(['order', 'ig', '--country', 'us'])).body.country).toBe('us');
  });

  it('the config file is 0600 when `config set` creates it, and again after a chmod', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expect((await tn.run(['config', 'set', 'country', 'fr'])).code).toBe(0);
    const file = join(tn.configDir, 'config.json');
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    const { chmod } = await import('node:fs/promises');
    await chmod(file, 0o644);
    expect((await tn.run(['config', 'set', 'country', 'gb'])).code).toBe(0);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
  });

  it('config set timeout 5 is a usage error; 60 is fine', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['config', 'set', 'timeout', '5']), 2, /timeout/);
    expectFailure(await tn.run(['config', 'set', 'colour', 'blue']), 2, /Unknown setting/);
    expect((await tn.run(['config', 'set', 'timeout', '60'])).code).toBe(0);
    expect((await tn.run(['config', 'get', 'timeout'])).stdout).toBe('60\n');
    expect((await tn.json(['config', 'list'])).body).toMatchObject({ timeout: 60 });
  });

  it('config list shows the API key only as a hint', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expect((await tn.run(['account'])).code).toBe(0);
    const stored = (await readJsonFile(join(tn.configDir, 'config.json'))) as { credentials: { local: string } };
    const key = stored.credentials.local;
    expect(key).toMatch(/^vn_[A-Za-z0-9]{32,}$/);

    const list = await tn.run(['config', 'list']);
    expect(list.code).toBe(0);
    expect(list.stdout + list.stderr).not.toContain(key);
    expect(list.stdout + list.stderr).not.toContain(key.slice(3, 20));
    expect(lines(list.stdout)).toContain('endpoint\tlocal');
    expect(list.stdout).toMatch(/^api_key\t\S+$/m);

    const json = await tn.json<{ api_key: string }>(['config', 'list']);
    expect(json.stdout).not.toContain(key);
    expect(json.body.api_key).toEqual(expect.any(String));

    // TN_API_KEY overrides the file and is hidden the same way.
    const env = await tn.run(['config', 'list'], { env: { TN_API_KEY: key } });
    expect(env.stdout).not.toContain(key);
  });
});

describe.concurrent('tn admin', () => {
  it('credit adds a deposit, by account id or by API key; audit passes after orders, cancels and retries', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const { body } = await tn.json<AccountJson>(['account']);
    const credit = await tn.run(['admin', 'credit', body.account_id, '5']);
    expect(outcome(credit)).toMatchObject({ code: 0, stdout: `${body.account_id}\t15\n` });
    expect((await tn.json<AccountJson>(['account'])).body.balance).toBe(15);

    const key = ((await readJsonFile(join(tn.configDir, 'config.json'))) as { credentials: { local: string } }).credentials.local;
    const byKey = await tn.json<{ account_id: string; balance: number }>(['admin', 'credit', key, '2.50']);
    expect(byKey.code).toBe(0);
    expect(byKey.body).toEqual({ account_id: body.account_id, balance: 17.5 });

    // A mix: a verify, a cancel, a retry, a batch with a failed item, an idempotent replay.
    expect((await tn.run(['verify', 'ig'])).code).toBe(0);
    const toCancel = (await tn.run(['order', 'wa'], { env: { TN_SIM_DELAY_MS: '60000' } })).stdout.split('\t')[0]!;
    expect((await tn.run(['cancel', toCancel])).code).toBe(0);
    const toRetry = (await tn.run(['order', 'tg', '--idempotency-key', 'mix'])).stdout.split('\t')[0]!;
    expect((await tn.run(['wait', toRetry])).code).toBe(0);
    expect((await tn.run(['retry', toRetry, '--wait'])).code).toBe(0);
    expect((await tn.run(['order', 'tg', '--idempotency-key', 'mix'])).stdout.split('\t')[0]).toBe(toRetry);
    expect((await tn.run(['batch', 'fb', 'nope', 'x'])).code).toBe(2);

    const audit = await tn.run(['admin', 'audit']);
    expect(outcome(audit)).toMatchObject({ code: 0, stderr: '' });
    expect(audit.stdout).toMatch(/^OK: 1 accounts, \d+ orders, \d+ ledger entries checked\.\n$/);
    const json = await tn.json<{ ok: boolean; violations: string[] }>(['admin', 'audit']);
    expect(json.code).toBe(0);
    expect(json.body).toMatchObject({ ok: true, violations: [] });

    // 17.50 − 0.12 (ig) − 0.30 (tg) − 0.10 (fb) − 0.08 (x); the cancelled wa is refunded.
    expect((await tn.json<AccountJson>(['account'])).body.balance).toBe(16.9);
  });

  it('credit refuses a negative, zero or malformed amount (exit 2) and an unknown account (exit 6)', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['admin', 'credit', 'acc_x', '-1']), 2, /positive USD amount/);
    expectFailure(await tn.run(['admin', 'credit', 'acc_x', '0']), 2);
    expectFailure(await tn.run(['admin', 'credit', 'acc_x', 'five']), 2);
    expectFailure(await tn.run(['admin', 'credit', 'acc_x', '1.0000001']), 2);
    expectFailure(await tn.run(['admin', 'credit', 'acc_x', '1']), 6, /not found/);
    expectFailure(await tn.run(['admin', 'audit', '--db', join(tn.root, 'missing.db')]), 6);
  });
});

describe.concurrent('completion, help and version', () => {
  for (const shell of ['bash', 'zsh', 'fish'] as const) {
    it(`tn completion ${shell} prints a script that knows verify`, async ({ onTestFinished }) => {
      const tn = await makeSandbox(onTestFinished);
      const r = await tn.run(['completion', shell]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toContain('verify');
      expect(r.stdout).toMatch(/json/);
      if (shell === 'bash') {
        const file = join(tn.root, 'tn.bash');
        await writeFile(file, r.stdout);
        const check = await runProgram('bash', ['-n', file]);
        expect(outcome(check)).toEqual({ code: 0, stdout: '', stderr: '' });
        expect(r.stdout).toContain('complete -F _tn tn');
      }
    });
  }

  it('tn completion of an unknown shell is a usage error', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    expectFailure(await tn.run(['completion', 'tcsh']), 2, /bash, zsh or fish/);
  });

  it('tn help exit-codes lists 0 to 9', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run(['help', 'exit-codes']);
    expect(r.code, r.stderr).toBe(0);
    for (let code = 0; code <= 9; code++) expect(r.stdout).toMatch(new RegExp(`^\\s*${code}\\s+\\S`, 'm'));
    expect(r.stdout).toMatch(/^\s*4\s+insufficient balance/m);
    expect(r.stdout).toMatch(/^\s*9\s+conflict/m);
  });

  it('tn --help and tn verify --help show examples on stdout', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    for (const args of [['--help'], ['verify', '--help'], ['-h']]) {
      const r = await tn.run(args);
      expect(r.code, args.join(' ')).toBe(0);
      expect(r.stdout).toContain('Examples');
      expect(r.stdout).toContain('Usage: tn');
    }
    expect((await tn.run(['verify', '--help'])).stdout).toContain('tn verify instagram');
  });

  // API.md §7: "`tn <command> --help` shows examples", for every command of the contract's list that exists.
  const COMMANDS = ['verify', 'order', 'status', 'wait', 'cancel', 'retry', 'batch', 'services', 'availability', 'account', 'usage', 'agent', 'config', 'admin', 'completion'];
  it('every command shows examples in --help', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const results = await Promise.all(COMMANDS.map((c) => tn.run([c, '--help'])));
    COMMANDS.forEach((c, i) => {
      expect(results[i]!.code, c).toBe(0);
      expect(results[i]!.stdout, c).toContain('Examples');
    });
  });

  it('plain `tn` with no arguments prints help on stdout and exits 0', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const r = await tn.run([]);
    expect(outcome(r)).toMatchObject({ code: 0, stderr: '' });
    expect(r.stdout).toMatch(/^Usage: tn /);
    expect(r.stdout).toContain('verify');
  });

  it('tn --version prints the version of package.json', async ({ onTestFinished }) => {
    const tn = await makeSandbox(onTestFinished);
    const { version } = JSON.parse(await readFile(join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(outcome(await tn.run(['--version']))).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    expect(outcome(await tn.run(['-V']))).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe.concurrent('no ANSI escape sequences on pipes', () => {
  const COMMANDS: string[][] = [
    ['verify', 'ig'],
    ['order', 'wa'],
    ['services'],
    ['availability'],
    ['account'],
    ['usage'],
    ['batch', 'ig', 'nope'],
    ['verify', 'instagrm'],
    ['order', 'ig', '--bogus'],
    ['status', 'ord_doesnotexist'],
    ['config', 'list'],
    ['help', 'exit-codes'],
    ['--help'],
    ['agent', 'gibberish words'],
    ['admin', 'audit'],
  ];
  // Every command piped; a sample of them with NO_COLOR and with --no-color too.
  for (const [label, env, extra, commands] of [
    ['piped', {}, [], COMMANDS],
    ['NO_COLOR=1', { NO_COLOR: '1' }, [], COMMANDS.filter((_, i) => i % 3 === 0)],
    ['--no-color', {}, ['--no-color'], COMMANDS.filter((_, i) => i % 3 === 1)],
  ] as const) {
    it(`${label}: stdout and stderr of ${commands.length} commands`, async ({ onTestFinished }) => {
      const tn = await makeSandbox(onTestFinished, env);
      for (const args of commands) {
        const r = await tn.run([...extra, ...args]);
        expect(r.stdout + r.stderr, args.join(' ')).not.toMatch(ANSI);
        expect(r.code, args.join(' ')).not.toBe(1);
        expect(r.code, args.join(' ')).not.toBeNull();
      }
    });
  }
});
