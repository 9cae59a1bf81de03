import { join } from 'node:path';
import { createElement as h } from 'react';
import chalk from 'chalk';
import { render } from 'ink-testing-library';
import { afterEach, describe, expect, it } from 'vitest';
import { EmbeddedBroker, openCoreOnFile, openEmbeddedBroker } from '../src/client/embedded.js';
import type { Broker } from '../src/core/broker.js';
import type { DeliveryGuard } from '../src/core/catalogue/delivery-guard.js';
import { TnError } from '../src/core/errors.js';
import { cents } from '../src/core/money.js';
import { App, type AppProps } from '../src/tui/app.js';
import { bigText, bigWidth } from '../src/tui/bigtext.js';
import { osc52 } from '../src/tui/clipboard.js';
import { countdown, liftTime, scrollWindow, tierProgress, wrapWords } from '../src/tui/format.js';
import { HELP } from '../src/tui/keys.js';
import { splitKeys } from '../src/tui/keymap.js';
import { countryFacts, countryOptions, otherCountries } from '../src/tui/pickers.js';
import { exitNotice, Session } from '../src/tui/session.js';
import { errorStatus } from '../src/tui/status.js';
import { tempDir } from './helpers.js';

const DOWN = '\u001b[B';
const UP = '\u001b[A';
const PGDN = '\u001b[6~';
const PGUP = '\u001b[5~';
const ENTER = '\r';
const ESC = '\u001b';

type Rendered = ReturnType<typeof render>;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface EmbeddedOptions {
  delayMs?: number;
  credit?: number;
  /** Share of orders whose SMS never comes. */
  noSmsRate?: number;
  deliveryGuard?: DeliveryGuard;
}

/**
 * The embedded broker on a fresh SQLite file: a sandbox account with $10.00, or with `credit`, the
 * delivery guard or SMS that never come, an account on a core opened with those options.
 */
async function embedded(options: EmbeddedOptions = {}): Promise<EmbeddedBroker> {
  const file = join(tempDir('tn-tui-'), 'tn.db');
  const simulator = { delayMs: options.delayMs ?? 50, noSmsRate: options.noSmsRate };
  let broker: EmbeddedBroker;
  if (options.credit === undefined && !options.deliveryGuard && options.noSmsRate === undefined) {
    broker = (await openEmbeddedBroker(file, { simulator })).broker;
  } else {
    const core = openCoreOnFile(file, { simulator, deliveryGuard: options.deliveryGuard });
    const { api_key } = await core.register({ credit: options.credit ?? cents(1000) });
    broker = await EmbeddedBroker.open(core, api_key);
  }
  cleanups.push(() => broker.close());
  return broker;
}

/** Makes the fake terminal `columns`×`rows` and tells the app, as a SIGWINCH would. */
function resize(app: Rendered, columns: number, rows: number): void {
  Object.defineProperty(app.stdout, 'columns', { value: columns, configurable: true });
  Object.defineProperty(app.stdout, 'rows', { value: rows, configurable: true });
  app.stdout.emit('resize');
}

/** The app at 80×24 on this broker, unmounted after the test (before the broker closes). */
function open(broker: Broker, props: Partial<AppProps> = {}): Rendered {
  const app = render(h(App, { broker, color: false, ...props }));
  cleanups.push(() => app.unmount());
  resize(app, 80, 24);
  return app;
}

const frame = (app: Rendered): string => app.lastFrame() ?? '';
/** The screen as one line of words, for text the status line may have wrapped. */
const flat = (f: string): string => f.replace(/\s+/g, ' ');

async function waitFor(app: Rendered, test: string | RegExp | ((f: string) => boolean), timeoutMs = 5000): Promise<string> {
  const ok = (f: string): boolean => (typeof test === 'string' ? f.includes(test) : test instanceof RegExp ? test.test(f) : test(f));
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const f = frame(app);
    if (ok(f)) return f;
    if (Date.now() > deadline) throw new Error(`Timed out waiting for ${String(test)}; the screen was:\n${f}`);
    await new Promise((r) => setTimeout(r, 15));
  }
}

/** Types keys one write at a time, as a person does, letting the app render between them. */
async function press(app: Rendered, ...keys: string[]): Promise<void> {
  for (const k of keys) {
    app.stdin.write(k);
    await new Promise((r) => setTimeout(r, 20));
  }
}

const ready = (app: Rendered): Promise<string> => waitFor(app, '› Instagram');
const selected = (f: string): string | undefined => /› (\S[^$]*?)\s{2,}\$/.exec(f)?.[1];

/** An SGR escape sequence whose parameter matches `params`. */
const sgr = (params: string): RegExp => new RegExp(`${String.fromCharCode(27)}\\[(${params})m`);

function expectFits(f: string, columns: number, rows: number): void {
  const lines = f.split('\n');
  expect(lines.length).toBeLessThanOrEqual(rows - 1);
  for (const line of lines) expect([...line].length, line).toBeLessThanOrEqual(columns);
}

describe('tn ui: Services', () => {
  it('shows each platform with price, your price, success rate, stock and median delivery, within 80×24', async () => {
    const app = open(await embedded());
    const f = await ready(app);
    expect(f).toMatch(/Platform\s+Price\s+Your price\s+Success\s+Stock\s+Median/);
    expect(f).toMatch(/› Instagram\s+\$0\.12\s+\$0\.12\s+–\s+\d+\s+–/);
    expect(f).toMatch(/WhatsApp\s+\$0\.25\s+\$0\.25/);
    expect(f).toContain('1–16 of 34');
    expect(f).toContain('local · $10.00 · Standard');
    expect(f).toContain('Enter order  / filter  C country');
    expectFits(f, 80, 24);
  });

  it('moves with j/k and the arrow keys, and scrolls to the last platform', async () => {
    const app = open(await embedded());
    await ready(app);
    await press(app, 'j');
    expect(selected(frame(app))).toBe('WhatsApp');
    await press(app, DOWN);
    expect(selected(frame(app))).toBe('Telegram');
    await press(app, 'k', UP, UP);
    expect(selected(frame(app))).toBe('Instagram');
    await press(app, 'G');
    const f = await waitFor(app, '› Other');
    expect(f).toContain('19–34 of 34');
    expect(f).not.toContain('Instagram');
  });

  it('/ filters as you type; Enter keeps the filter, Esc clears it', async () => {
    const app = open(await embedded());
    await ready(app);
    await press(app, '/', 't', 'e', 'l', 'e');
    let f = await waitFor(app, 'Filter: tele▏');
    expect(f).toContain('type to filter  Enter keep  Esc clear');
    expect(f).toContain('› Telegram');
    expect(f).not.toContain('Instagram');
    expect(f).toContain('1–1 of 1');
    await press(app, ENTER);
    f = await waitFor(app, (s) => s.includes('Filter: tele') && !s.includes('▏'));
    expect(f).toContain('Enter order  / filter');
    await press(app, 'j'); // a key again, not a letter of the filter
    expect(frame(app)).toContain('Filter: tele');
    await press(app, '/', 'x', 'y', 'z');
    await waitFor(app, 'No platform matches "telexyz": Esc clears the filter.');
    await press(app, ESC);
    f = await waitFor(app, '/ to filter');
    expect(f).toContain('Instagram');
    expect(f).toContain('1–16 of 34');
  });

  it('keys that arrive together (a paste, a fast typist) are taken one by one', async () => {
    const app = open(await embedded());
    await ready(app);
    app.stdin.write('/insta\r');
    const f = await waitFor(app, 'Filter: insta');
    expect(f).not.toContain('▏');
    expect(f).toContain('1–1 of 1');
  });
});

/** The row of the table or list that starts with `start` (after the selection marker, if any). */
const row = (f: string, start: string): string | undefined => f.split('\n').find((l) => l.slice(3).startsWith(start));

describe('tn ui: a country\u2019s prices and stock', () => {
  it('with a country chosen, the table shows its prices, your price and stock from the broker; any goes back to the list', async () => {
    const broker = await embedded({ delayMs: 60_000 });
    await broker.core.setPrice('instagram', 'gb', 200_000); // the operator's $0.20 for Instagram in the UK
    const app = open(broker);
    await ready(app);
    expect(frame(app)).toMatch(/› Instagram\s+\$0\.12\s+\$0\.12\s/);
    await press(app, 'C', 'u', 'k');
    await waitFor(app, '› gb   United Kingdom');
    await press(app, ENTER);
    let f = await waitFor(app, /› Instagram\s+\$0\.20\s+\$0\.20\s+–\s+2000\s/);
    expect(f).toContain('Country: United Kingdom (gb)');
    expect(f).not.toContain('reading its prices');
    expect(flat(f)).toContain('New orders go to United Kingdom (gb); the table shows the prices and stock there.');
    // Every row is the broker's price list for the country.
    const { items } = await broker.prices({ by: 'service', country: 'gb' });
    const whatsapp = items.find((i) => i.platform === 'whatsapp')!;
    expect(row(f, 'WhatsApp')).toMatch(new RegExp(`WhatsApp\\s+\\$${whatsapp.price.toFixed(2)}\\s+\\$${whatsapp.your_price.toFixed(2)}\\s+–\\s+${whatsapp.stock}\\s`));
    expectFits(f, 80, 24);

    // An order there costs that price, and the stock shown goes down by the number it holds.
    await press(app, ENTER);
    await waitFor(app, /Instagram number \+44\d+ for \$0\.20/);
    await press(app, ESC);
    f = await waitFor(app, /› Instagram\s+\$0\.20\s+\$0\.20\s+–\s+1999\s/);

    await press(app, 'C', ...'any', ENTER);
    f = await waitFor(app, 'Country: any country');
    expect(f).toMatch(/› Instagram\s+\$0\.12\s+\$0\.12\s/);
  });

  it('the country picker shows the stock and your price of the platform under the cursor, countries with stock first', async () => {
    const broker = await embedded();
    await broker.core.setPrice('telegram', 'fr', 450_000);
    const app = open(broker);
    await ready(app);
    await press(app, 'j', 'j', 'C');
    let f = await waitFor(app, 'Telegram by country: stock and your price; countries with stock first.');
    expect(f).toMatch(/Country\s+Stock\s+Your price\n/);
    const { items } = await broker.prices({ by: 'country', platform: 'telegram' });
    const total = items.reduce((n, i) => n + i.stock, 0);
    const lines = f.split('\n');
    const first = lines.findIndex((l) => l.startsWith(' › any'));
    expect(lines[first]).toMatch(new RegExp(`› any\\s+Any country \\(the broker chooses\\) \\(current\\)\\s+${total}\\s*$`));
    // The countries with stock, by name, then the rest, which have none.
    expect(lines.slice(first + 1, first + 6).map((l) => l.slice(3, 5))).toEqual(['ca', 'fr', 'gb', 'us', 'af']);
    for (const item of items) {
      expect(row(f, item.country)).toMatch(new RegExp(`\\s${item.stock}\\s+\\$${item.your_price.toFixed(2)}$`));
    }
    expect(row(f, 'fr')).toMatch(/France\s+10000\s+\$0\.45$/);
    expect(row(f, 'af')).toMatch(/Afghanistan\s+–$/);
    expectFits(f, 80, 24);

    // A search keeps its ranking; within it, the countries with stock come first.
    await press(app, ...'united');
    f = await waitFor(app, 'Search: united▏');
    expect(f.split('\n').filter((l) => /^ [› ] [a-z]{2} /.test(l)).map((l) => l.slice(3, 5))).toEqual(['gb', 'us', 'ae', 'um', 'vi']);
    await press(app, DOWN, ENTER);
    await waitFor(app, 'Country: United States (us)');

    // Without a platform under the cursor there is no stock to show.
    await press(app, '/', 'x', 'y', 'z', ENTER, 'C');
    f = await waitFor(app, 'The broker says which countries have stock only when you order.');
    expect(f).not.toContain('Stock');
  });

  it('prices that cannot be read: the list prices stay, the status line says why, the picker too', async () => {
    const broker = await embedded();
    let down = true;
    const flaky = new Proxy(broker, {
      get: (target, prop, receiver) =>
        prop === 'prices' && down ? () => Promise.reject(new TnError('unavailable', 'The price list is down.')) : Reflect.get(target, prop, receiver),
    });
    const app = open(flaky);
    await ready(app);
    await press(app, 'C');
    await waitFor(app, 'Could not read Instagram stock by country: Esc, then C tries again.');
    await press(app, 'u', 'k', ENTER);
    let f = await waitFor(app, 'Country: United Kingdom (gb) (list prices: r reads its own)');
    expect(f).toContain('✗ The price list is down.');
    expect(f).toMatch(/› Instagram\s+\$0\.12\s+\$0\.12\s/);
    down = false;
    await press(app, 'r');
    f = await waitFor(app, /Country: United Kingdom \(gb\)\s{3}\//);
    expect(f).toMatch(/› Instagram\s+\$0\.12\s+\$0\.12\s+–\s+2000\s/);
  });
});

describe('tn ui: ordering', () => {
  it('Enter orders a number; the code appears large and in plain text the moment it arrives', async () => {
    const broker = await embedded({ delayMs: 300 });
    const session = new Session();
    const app = open(broker, { session });
    await ready(app);
    await press(app, '/', ...'instagram', ENTER, ENTER);
    let f = await waitFor(app, /Phone {4}\+\d+/);
    expect(f).toContain('Instagram · ');
    expect(f).toMatch(/Status {3}Waiting for the SMS · expires in [45]:\d\d/);
    expect(f).toContain('Code     waiting…');
    // Only the keys that apply: waiting, it can be cancelled, but there is no code to copy or repeat.
    expect(f).toContain('c cancel  p copy phone  Esc back');
    expect(f).not.toContain('r another code');
    f = await waitFor(app, /Code {5}\d{6}/);
    expect(f).toContain('r another code  y copy code  p copy phone');
    expect(f).not.toContain('c cancel');
    const code = /Code {5}(\d{6})/.exec(f)![1]!;
    expect(f).toContain('Status   Code received');
    expect(f).toContain(`Instagram code ${code} arrived`);
    for (const line of bigText(code)!) expect(f).toContain(line.trimEnd());
    expect(f).toContain(`SMS      `);
    expect(session.list()[0]).toMatchObject({ status: 'completed', code });
    await waitFor(app, 'local · $9.88');
    expectFits(frame(app), 80, 24);
  });

  it('c cancels a waiting order and shows the refund', async () => {
    const app = open(await embedded({ delayMs: 60_000 }));
    await ready(app);
    await press(app, ENTER);
    await waitFor(app, 'Waiting for the SMS');
    await waitFor(app, 'local · $9.88');
    await press(app, 'c');
    const f = await waitFor(app, 'Status   Cancelled · $0.12 refunded');
    expect(f).toContain('Order cancelled: $0.12 refunded to your balance.');
    // Ended: the hint offers only the way back.
    expect(f).not.toMatch(/c cancel|r another code|y copy code/);
    expect(f).toContain(' Esc back  ? help');
    await waitFor(app, 'local · $10.00');
    await press(app, 'c'); // the broker refuses a second cancel; the app says why
    await waitFor(app, /is cancelled: it cannot be cancelled/);
    expect(frame(app)).toContain('Esc goes back');
  });

  it('r asks for another code on the same number', async () => {
    const app = open(await embedded({ delayMs: 100 }));
    await ready(app);
    await press(app, ENTER);
    const first = /Code {5}(\d{6})/.exec(await waitFor(app, /Code {5}\d{6}/))![1]!;
    await press(app, 'r');
    await waitFor(app, 'Waiting for another code');
    const f = await waitFor(app, `Earlier  ${first}`);
    expect(f).toContain('Status   Code received');
  });

  it('y copies the code and p the phone, through the clipboard hook (OSC 52 by default)', async () => {
    const copied: string[] = [];
    const app = open(await embedded({ delayMs: 100 }), { copy: (t) => copied.push(t) });
    await ready(app);
    await press(app, ENTER);
    await waitFor(app, 'Code     waiting…');
    await press(app, 'y');
    await waitFor(app, 'No code yet');
    const f = await waitFor(app, /Code {5}\d{6}/);
    const code = /Code {5}(\d{6})/.exec(f)![1]!;
    const phone = /Phone {4}(\+\d+)/.exec(f)![1]!;
    await press(app, 'y', 'p');
    expect(copied).toEqual([code, phone]);
    await waitFor(app, `Copied the phone ${phone}`);
    expect(osc52('123456')).toBe(`\u001b]52;c;${Buffer.from('123456').toString('base64')}\u0007`);
  });

  it('Esc goes back; the order stays watched and the exit notice names an order still waiting', async () => {
    const broker = await embedded({ delayMs: 60_000 });
    const session = new Session();
    const app = open(broker, { session });
    await ready(app);
    await press(app, 'j', ENTER);
    await waitFor(app, 'Waiting for the SMS');
    await press(app, ESC);
    await waitFor(app, '› WhatsApp');
    const waiting = await session.waiting(broker);
    expect(waiting).toHaveLength(1);
    const [line] = exitNotice(waiting);
    expect(line).toContain(`order ${waiting[0]!.order_id} (whatsapp, ${waiting[0]!.phone}) is still waiting`);
    expect(line).toContain(`\`tn wait ${waiting[0]!.order_id}\``);
    expect(line).toContain(`\`tn cancel ${waiting[0]!.order_id}\``);
  });
});

describe('tn ui: errors in the status line', () => {
  it('insufficient balance: the broker says why, the status line what to do, and the app keeps running', async () => {
    const app = open(await embedded({ credit: cents(10) }));
    await ready(app);
    await press(app, '/', ...'whatsapp', ENTER, ENTER);
    const f = await waitFor(app, '✗ Balance $0.10 is below the price $0.25.');
    expect(flat(f)).toContain('Add credit with `tn admin credit <account_id> <usd>`');
    expect(f).not.toMatch(/\bat .+:\d+:\d+/); // no stack trace
    expect(f).toContain('[Services]');
    await press(app, ESC, 'j');
    await waitFor(app, '› WhatsApp');
  });

  it('a country without stock: the error names it and points to the country picker', async () => {
    const app = open(await embedded());
    await ready(app);
    await press(app, 'C');
    await waitFor(app, 'Country for new orders');
    await press(app, ...'germany', ENTER);
    await waitFor(app, 'Country: Germany (de)');
    await press(app, ENTER);
    const f = await waitFor(app, 'No Instagram numbers are available in Germany');
    expect(flat(f)).toContain('Press C to choose another country');
    await press(app, 'C', 'u', 'k');
    await waitFor(app, '› gb   United Kingdom');
    await press(app, ENTER, ENTER);
    await waitFor(app, /Phone {4}\+44/);
  });

  it('delivery_rate_low: the status line says until when orders are paused there and suggests another country; Account lists the pause', async () => {
    const deliveryGuard = { minOrders: 2, minRate: 0.5, windowMs: 86_400_000 };
    const broker = await embedded({ deliveryGuard, noSmsRate: 1 });
    const app = open(broker);
    await ready(app);
    await press(app, 'C', 'u', 'k');
    await waitFor(app, '› gb   United Kingdom');
    await press(app, ENTER);
    await waitFor(app, /Country: United Kingdom \(gb\)\s/);
    // An order whose SMS never comes, cancelled: no delivery out of one ended order there.
    await press(app, ENTER);
    await waitFor(app, 'Waiting for the SMS');
    await press(app, 'c');
    await waitFor(app, 'Order cancelled: $0.12 refunded');
    await press(app, ESC);
    await waitFor(app, '[Services]');
    await press(app, ENTER);
    const f = await waitFor(app, '✗ Instagram orders in United Kingdom are paused until');
    const [guard] = (await broker.account()).delivery_guards!;
    expect(guard).toMatchObject({ platform: 'instagram', country: 'gb', ended: 1, delivered: 0 });
    const lifts = new Date(guard!.lifts_at);
    const hhmm = `${String(lifts.getHours()).padStart(2, '0')}:${String(lifts.getMinutes()).padStart(2, '0')}`;
    // A day from the first order: tomorrow, so the weekday is named too.
    const day = lifts.toLocaleDateString('en-US', { weekday: 'short' });
    expect(flat(f)).toContain(`✗ Instagram orders in United Kingdom are paused until ${day} ${hhmm}: too few of them got an SMS.`);
    // The country with the most Instagram numbers, where nothing is paused.
    expect(flat(f)).toContain('Press C for another country, e.g. France (fr).');
    expect(f).not.toContain('…');
    expect(f).toContain('[Services]');

    await press(app, 'a');
    const account = await waitFor(app, /Paused\s+Instagram/);
    expect(account).toContain(`Paused    Instagram in United Kingdom until ${day} ${hhmm}, 0 of 1 ended got an SMS`);
    expectFits(account, 80, 24);

    // The picker marks the country and does not count it among those with stock.
    await press(app, 's', 'C');
    const picker = await waitFor(app, 'Instagram by country');
    const codes = picker.split('\n').filter((l) => /^ [› ] [a-z]{2,3} /.test(l)).map((l) => l.slice(3, 6).trim());
    expect(codes.slice(0, 5)).toEqual(['any', 'ca', 'fr', 'us', 'af']);
    await press(app, 'u', 'k');
    expect(row(await waitFor(app, '› gb'), 'gb')).toMatch(new RegExp(`United Kingdom \\(current\\) \\(paused until ${day} ${hhmm}\\)\\s+\\d+\\s+\\$0\\.12$`));
  });

  it('a broker that cannot be reached, and an unexpected failure: a message and a next step, never a stack trace', async () => {
    const unreachable = new Proxy({ endpoint: 'http://127.0.0.1:9' } as Broker, {
      get: (target, prop) =>
        prop in target
          ? target[prop as keyof Broker]
          : () => Promise.reject(new TnError('unavailable', 'Cannot reach http://127.0.0.1:9: connection refused.')),
    });
    const app = open(unreachable);
    let f = await waitFor(app, '✗ Cannot reach http://127.0.0.1:9: connection refused.');
    expect(flat(f)).toContain('Is the broker at http://127.0.0.1:9 running? Press r to try again');
    expect(f).toContain('Could not read the platforms: r tries again.');
    await press(app, 'a');
    await waitFor(app, 'Could not read the account: r tries again.');

    const broken = new Proxy({ endpoint: 'local' } as Broker, {
      get: (target, prop) => (prop in target ? target[prop as keyof Broker] : () => Promise.reject(new Error('boom'))),
    });
    const other = open(broken);
    f = await waitFor(other, '✗ Unexpected error: boom');
    expect(f).toContain('This is a bug in tn');
    expect(f).not.toMatch(/\bat .+:\d+:\d+/);
  });
});

describe('tn ui: Orders, Account, help, quitting', () => {
  it('o lists the order history a page at a time: n and p, PgDn and PgUp turn pages; Enter opens an order', async () => {
    const broker = await embedded({ delayMs: 20 });
    for (let i = 0; i < 27; i++) await broker.order({ platform: i % 3 ? 'instagram' : 'telegram' });
    const history = (await broker.orders({ limit: 100 })).orders; // newest first
    expect(history).toHaveLength(27);
    const app = open(broker);
    await ready(app);
    await press(app, 'o');
    // 80×24 leaves 16 rows for orders: a page is a screen.
    let f = await waitFor(app, 'page 1 of 2, 27 orders');
    expect(f).toContain('Orders, newest first');
    expect(f).toContain('n p page');
    const phones = (page: string): string[] => [...page.matchAll(/ (\+\d{10,}) /g)].map((m) => m[1]!);
    expect(phones(f)).toEqual(history.slice(0, 16).map((o) => o.phone));
    expect(f).toMatch(new RegExp(`› \\d\\d:\\d\\d:\\d\\d  ${history[0]!.platform}\\s.*\\${history[0]!.phone}`));
    expectFits(f, 80, 24);

    await press(app, 'n');
    f = await waitFor(app, 'page 2 of 2, 27 orders');
    expect(phones(f)).toEqual(history.slice(16).map((o) => o.phone));
    await press(app, 'n'); // no page 3
    await press(app, 'j', ENTER);
    f = await waitFor(app, `Phone    ${history[17]!.phone}`);
    await press(app, ESC); // back to the page it was opened from
    f = await waitFor(app, 'page 2 of 2, 27 orders');
    expect(phones(f)).toEqual(history.slice(16).map((o) => o.phone));

    await press(app, PGUP);
    f = await waitFor(app, 'page 1 of 2, 27 orders');
    expect(phones(f)[0]).toBe(history[0]!.phone);
    await press(app, PGDN);
    await waitFor(app, 'page 2 of 2');
    await press(app, 'p');
    await waitFor(app, 'page 1 of 2');
    await press(app, 'n', 's', 'o'); // Orders opens again on the newest
    f = await waitFor(app, (s) => s.includes('[Orders]') && s.includes('page 1 of 2'));

    // A new order is on the first page when Orders is shown again.
    const newest = await broker.order({ platform: 'discord' });
    await press(app, 'r');
    f = await waitFor(app, 'page 1 of 2, 28 orders');
    expect(phones(f)[0]).toBe(newest.phone);

    // A taller terminal holds more per page; a page past the end becomes the last one.
    await press(app, 'n');
    await waitFor(app, 'page 2 of 2, 28 orders');
    resize(app, 80, 40);
    f = await waitFor(app, 'page 1 of 1, 28 orders');
    expect(phones(f)).toHaveLength(28);
    expectFits(f, 80, 40);
  });

  it('o lists recent orders with their states and codes; Enter opens one', async () => {
    const broker = await embedded({ delayMs: 20 });
    const done = await broker.verify({ platform: 'telegram', country: 'gb' });
    const gone = await broker.cancel((await broker.order({ platform: 'discord' })).order_id);
    const app = open(broker);
    await ready(app);
    await press(app, 'o');
    const f = await waitFor(app, '[Orders]');
    expect(f).toMatch(/Created\s+Platform\s+Country\s+Phone\s+Status\s+Code\s+Price/);
    expect(f).toMatch(new RegExp(`› \\d\\d:\\d\\d:\\d\\d  discord .*cancelled\\s+\\$0\\.15`));
    expect(f).toMatch(new RegExp(`telegram\\s+GB\\s+\\${done.phone}\\s+completed\\s+${done.code}\\s+\\$0\\.30`));
    expect(gone.refunded).toBe(true);
    await press(app, 'j', ENTER);
    const order = await waitFor(app, 'Telegram · United Kingdom (gb)');
    expect(order).toContain(`Code     ${done.code}`);
    await press(app, ESC);
    await waitFor(app, '[Orders]');
  });

  it('a shows balance, tier, a progress bar to the next tier and this week\u2019s spending', async () => {
    const broker = await embedded({ delayMs: 20 });
    await broker.verify({ platform: 'instagram' });
    const app = open(broker);
    await ready(app);
    await press(app, 'a');
    const f = await waitFor(app, 'This week $0.12 on 1 order');
    expect(f).toContain('Balance   $9.88');
    expect(f).toContain('Tier      Standard, list prices');
    expect(f).toContain('Next      Silver after 19 more completed orders');
    expect(f).toMatch(/█+░+ {2}1 \/ 20 completed/);
    expect(f).toMatch(/\w{3} \d\d-\d\d {2}█{20} {4}\$0\.12 {2}1 order/);
    expect(f.match(/\d\d-\d\d {2}[█░]{20}/g)).toHaveLength(7);
    expectFits(f, 80, 24);
  });

  it('? shows every key; any key closes it', async () => {
    const app = open(await embedded());
    await ready(app);
    await press(app, '?');
    const f = await waitFor(app, 'any key closes the help');
    for (const section of HELP) {
      expect(f).toContain(section.title);
      for (const [keys, what] of section.keys) expect(f).toContain(`${keys.padEnd(11)}${what}`);
    }
    expectFits(f, 80, 24);
    await press(app, 'x');
    await waitFor(app, 'Enter order  / filter');
  });

  it('q and Ctrl-C quit (Ink stops reading the keyboard)', async () => {
    for (const key of ['q', '\u0003']) {
      const app = open(await embedded());
      await ready(app);
      expect(app.stdin.listenerCount('readable')).toBeGreaterThan(0);
      await press(app, key);
      await new Promise((r) => setTimeout(r, 50));
      expect(app.stdin.listenerCount('readable')).toBe(0);
    }
  });

  it('while filtering, q is a letter of the filter, Ctrl-C still quits', async () => {
    const app = open(await embedded());
    await ready(app);
    await press(app, '/', 'q');
    await waitFor(app, 'Filter: q▏');
    expect(app.stdin.listenerCount('readable')).toBeGreaterThan(0);
    await press(app, '\u0003');
    await new Promise((r) => setTimeout(r, 50));
    expect(app.stdin.listenerCount('readable')).toBe(0);
  });
});

describe('tn ui: terminal', () => {
  it('follows resizes: fewer columns on a narrow terminal, more rows on a tall one', async () => {
    const app = open(await embedded());
    await ready(app);
    resize(app, 60, 20);
    let f = await waitFor(app, (s) => !s.includes('Median'));
    expectFits(f, 60, 20);
    expect(f).toMatch(/Platform\s+Price\s+Your price\s+Success\s+Stock\n/);
    resize(app, 100, 30);
    f = await waitFor(app, '1–22 of 34');
    expect(f).toContain('Median');
    expectFits(f, 100, 30);
    resize(app, 50, 14);
    await press(app, ENTER);
    f = await waitFor(app, /Phone {4}\+\d+/);
    expectFits(f, 50, 14);
  });

  it('no colour at all when colour is off (NO_COLOR, --no-color); colour when on', async () => {
    const level = chalk.level;
    chalk.level = 1;
    cleanups.push(() => void (chalk.level = level));
    const broker = await embedded();
    const plain = open(broker, { color: false });
    const coloured = open(broker, { color: true });
    await ready(plain);
    await ready(coloured);
    // No colour, dim or inverse without colour; cyan (36) with it. Bold (1) stays either way.
    expect(frame(plain)).not.toMatch(sgr('3\\d|9\\d|4\\d|10\\d|2|7'));
    expect(frame(coloured)).toMatch(sgr('36'));
  });
});

describe('tn ui: pure parts', () => {
  it('draws the digits, + and the letters of alphanumeric codes large, three lines tall', () => {
    const lines = bigText('+447700900123')!;
    expect(lines).toHaveLength(3);
    for (const line of lines) expect([...line]).toHaveLength(bigWidth('+447700900123'));
    expect(bigText('BCDFG')).not.toBeNull();
    expect(bigText('12€')).toBeNull();
  });

  it('splits keys that came together, turning CR into Enter', () => {
    const none = { return: false, ctrl: false, meta: false, escape: false } as Parameters<typeof splitKeys>[1];
    const keys = splitKeys('/ab\r', none);
    expect(keys.map(([i]) => i)).toEqual(['/', 'a', 'b', '']);
    expect(keys[3]![1].return).toBe(true);
    // Esc then j, close enough for the terminal to send them as Alt+j.
    const altJ = splitKeys('j', { ...none, meta: true });
    expect(altJ.map(([i, k]) => [i, k.escape])).toEqual([
      ['', true],
      ['j', false],
    ]);
  });

  it('formats: wrapping, countdown, scrolling, tier progress, country search', () => {
    expect(wrapWords('one two three four', 9, 2)).toEqual(['one two', 'three fo…']);
    expect(countdown(299_001)).toBe('5:00');
    expect(countdown(-5)).toBe('0:00');
    expect(scrollWindow(33, 32, 16)).toEqual({ start: 17, end: 33 });
    expect(scrollWindow(5, 3, 16)).toEqual({ start: 0, end: 5 });
    expect(tierProgress({ completed_orders: 5, next_tier: { tier: 'Silver', orders_needed: 15 } })).toBe(0.25);
    expect(tierProgress({ completed_orders: 120, next_tier: null })).toBeNull();
    expect(countryOptions('uk')[0]?.code).toBe('gb');
    expect(countryOptions('')[0]?.code).toBe('any');
    const now = new Date(2026, 10, 21, 9, 30).getTime();
    expect(liftTime(new Date(2026, 10, 21, 14, 3, 27).toISOString(), now)).toBe('14:03');
    expect(liftTime(new Date(2026, 10, 22, 8, 5).toISOString(), now)).toBe('Sun 08:05');
  });

  it('country facts: stock first, paused countries last, the suggestion the most stock elsewhere', () => {
    const item = (country: string, stock: number) => ({ platform: 'instagram', country, price: 0.12, your_price: 0.12, stock });
    const list = { by: 'country' as const, platform: 'instagram', items: [item('fr', 9), item('gb', 20), item('us', 0), item('ca', 5)] };
    const guards = [{ platform: 'instagram', country: 'gb', ended: 3, delivered: 0, lifts_at: '2026-11-22T08:00:00Z' }, { platform: 'telegram', country: 'fr', ended: 3, delivered: 0, lifts_at: '2026-11-22T08:00:00Z' }];
    const facts = countryFacts(list, guards);
    const options = countryOptions('', facts);
    expect(options.slice(0, 3).map((o) => o.code)).toEqual(['any', 'ca', 'fr']);
    expect(options[0]!.stock).toBe(14); // not counting the paused country
    expect(options.find((o) => o.code === 'gb')).toMatchObject({ stock: 20, pausedUntil: '2026-11-22T08:00:00Z' });
    expect(options.find((o) => o.code === 'us')).toMatchObject({ stock: 0 });
    expect(otherCountries(facts, 'gb')).toEqual(['fr']);
    expect(otherCountries(facts, 'fr', 3)).toEqual(['ca']);
    expect(countryOptions('uk', facts)[0]?.code).toBe('gb'); // what was typed still ranks first

    // delivery_rate_low without the broker's details (an older server): its message, and a next step.
    const bare = errorStatus(new TnError('delivery_rate_low', 'Paused.'), 'local');
    expect(bare).toEqual({ kind: 'error', text: 'Paused.', next: 'Press C to choose another country, or pick another platform.' });
    const err = new TnError('delivery_rate_low', 'Paused.', { platform: 'instagram', country: 'gb', lifts_at: '2026-11-22T08:00:00Z' });
    expect(errorStatus(err, 'local', { alternatives: [] }).next).toBe('Pick another platform, or press C for another country.');
  });
});
