import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PLATFORMS, findPlatform, requirePlatform, suggestPlatforms } from '../src/core/catalogue/catalog.js';
import { ERRORS, EXIT, TnError, exitCodeFor } from '../src/core/errors.js';
import { cents, discounted, formatUsd, parseUsd, toUsd } from '../src/core/money.js';
import { canTransition, ORDER_STATUSES, toOrderView, type OrderRecord } from '../src/core/orders/order.js';
import { TIERS, nextTier, tierFor } from '../src/core/accounts/tiers.js';

describe('money', () => {
  it('formats micro-USD with at least two decimals', () => {
    expect(formatUsd(0)).toBe('$0.00');
    expect(formatUsd(120_000)).toBe('$0.12');
    expect(formatUsd(237_500)).toBe('$0.2375');
    expect(formatUsd(10_000_000)).toBe('$10.00');
    expect(formatUsd(1)).toBe('$0.000001');
    expect(formatUsd(-120_000)).toBe('-$0.12');
    expect(formatUsd(1_234_500_000)).toBe('$1,234.50');
  });

  it('parses USD text exactly, refusing what is not a plain amount', () => {
    expect(parseUsd('5')).toBe(5_000_000);
    expect(parseUsd('$0.25')).toBe(250_000);
    expect(parseUsd('2.5')).toBe(2_500_000);
    expect(parseUsd('0.000001')).toBe(1);
    for (const bad of ['', '-1', '1e3', '0.0000001', 'abc', '1.2.3', '1,000', 'NaN', 'Infinity', '0x10']) {
      expect(parseUsd(bad), bad).toBeNull();
    }
  });

  it('round-trips every amount through text', () => {
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 999_999_999_999 }), (m) => {
        expect(parseUsd(formatUsd(m).replace(/,/g, ''))).toBe(m);
      }),
    );
  });

  it('applies whole-percent discounts to whole-cent prices without rounding', () => {
    for (const platform of PLATFORMS) {
      for (const tier of TIERS) {
        const price = discounted(platform.price, tier.discountPercent);
        expect(Number.isInteger(price)).toBe(true);
        expect(price % 100).toBe(0);
      }
    }
    expect(discounted(cents(25), 5)).toBe(237_500);
    expect(toUsd(237_500)).toBe(0.2375);
  });
});

describe('tiers', () => {
  it('follows the table of API.md §2 at its edges', () => {
    const cases: [number, string, number][] = [
      [0, 'Standard', 0],
      [19, 'Standard', 0],
      [20, 'Silver', 5],
      [49, 'Silver', 5],
      [50, 'Gold', 10],
      [99, 'Gold', 10],
      [100, 'VIP', 15],
      [10_000, 'VIP', 15],
    ];
    for (const [completed, name, discount] of cases) {
      expect(tierFor(completed)).toMatchObject({ name, discountPercent: discount });
    }
    expect(nextTier(0)).toEqual({ tier: 'Silver', orders_needed: 20 });
    expect(nextTier(49)).toEqual({ tier: 'Gold', orders_needed: 1 });
    expect(nextTier(100)).toBeNull();
  });
});

describe('catalog', () => {
  it('has 34 platforms with unique ids, names and aliases, priced in whole cents', () => {
    expect(PLATFORMS).toHaveLength(34);
    const names = PLATFORMS.flatMap((p) => [p.id, ...p.aliases].map((n) => n.toLowerCase()));
    expect(new Set(names).size).toBe(names.length);
    for (const p of PLATFORMS) expect(p.price % 10_000).toBe(0);
    expect(findPlatform('instagram')!.price).toBe(120_000);
    expect(findPlatform('whatsapp')!.price).toBe(250_000);
  });

  it('finds platforms by id, name and alias, ignoring case and spacing', () => {
    expect(findPlatform('ig')!.id).toBe('instagram');
    expect(findPlatform('WA')!.id).toBe('whatsapp');
    expect(findPlatform('tg')!.id).toBe('telegram');
    expect(findPlatform('x')!.id).toBe('twitter');
    expect(findPlatform('Twitter')!.id).toBe('twitter');
    expect(findPlatform(' Insta ')!.id).toBe('instagram');
    expect(findPlatform('kakao talk')!.id).toBe('kakaotalk');
    expect(findPlatform('myspace')).toBeUndefined();
  });

  it('refuses unknown and missing platforms with typed errors and suggestions', () => {
    expect(() => requirePlatform('instagarm')).toThrow(TnError);
    try {
      requirePlatform('instagarm');
    } catch (err) {
      expect((err as TnError).code).toBe('unknown_platform');
      expect((err as TnError).details.suggestions).toContain('instagram');
    }
    for (const bad of [undefined, null, 42, '', '   ', {}]) {
      expect(() => requirePlatform(bad)).toThrow(expect.objectContaining({ code: 'invalid_request' }));
    }
    expect(suggestPlatforms('telegarm')).toContain('telegram');
  });
});

describe('errors', () => {
  it('maps every error code to the status and exit code of API.md §4 and §7', () => {
    expect(ERRORS.invalid_request).toEqual({ status: 400, exit: EXIT.usage });
    expect(ERRORS.unauthorized).toEqual({ status: 401, exit: EXIT.auth });
    expect(ERRORS.insufficient_balance).toEqual({ status: 402, exit: EXIT.balance });
    expect(ERRORS.not_found).toEqual({ status: 404, exit: EXIT.notFound });
    expect(ERRORS.order_not_active).toEqual({ status: 409, exit: EXIT.conflict });
    expect(ERRORS.payload_too_large).toEqual({ status: 413, exit: EXIT.usage });
    expect(ERRORS.idempotency_key_reused).toEqual({ status: 422, exit: EXIT.conflict });
    expect(ERRORS.rate_limited).toEqual({ status: 429, exit: EXIT.rateLimited });
    expect(ERRORS.no_numbers).toEqual({ status: 503, exit: EXIT.unavailable });
    expect(exitCodeFor('no_such_code')).toBe(EXIT.bug);
  });

  it('round-trips through the error body', () => {
    const err = new TnError('insufficient_balance', 'Balance $0.10 is below the price $0.25.', { balance: 0.1, price: 0.25 });
    expect(err.toBody()).toEqual({ code: 'insufficient_balance', message: err.message, status: 402, balance: 0.1, price: 0.25 });
    const back = TnError.fromBody(err.toBody());
    expect(back.code).toBe('insufficient_balance');
    expect(back.exitCode).toBe(4);
    expect(back.details).toEqual({ balance: 0.1, price: 0.25 });
  });
});

describe('order state machine', () => {
  const at = 1_000;
  it('lets an active order end once, and only a completed unexpired order go back', () => {
    for (const from of ORDER_STATUSES) {
      for (const to of ORDER_STATUSES) {
        const allowed = canTransition(from, to, at, at + 1);
        const expected = (from === 'active' && to !== 'active') || (from === 'completed' && to === 'active');
        expect(allowed, `${from} → ${to}`).toBe(expected);
      }
    }
    expect(canTransition('completed', 'active', at, at)).toBe(false);
  });

  it('renders the API order object, with the latest code and all codes', () => {
    const rec: OrderRecord = {
      id: 'ord_1',
      accountId: 'acc_1',
      platform: 'instagram',
      country: 'us',
      phone: '+12025550143',
      source: 'simulator',
      price: 120_000,
      status: 'completed',
      createdAt: Date.UTC(2026, 10, 21, 23, 30),
      expiresAt: Date.UTC(2026, 10, 21, 23, 35),
      completedAt: Date.UTC(2026, 10, 21, 23, 30, 8, 120),
      endedAt: null,
      refunded: false,
      smsDueAt: null,
      retriedAt: null,
      messages: [
        { code: '111111', text: 'first 111111', receivedAt: 1 },
        { code: '847291', text: 'Your Instagram code is 847291', receivedAt: 2 },
      ],
    };
    expect(toOrderView(rec)).toEqual({
      order_id: 'ord_1',
      platform: 'instagram',
      country: 'us',
      phone: '+12025550143',
      price: 0.12,
      status: 'completed',
      code: '847291',
      sms: 'Your Instagram code is 847291',
      codes: ['111111', '847291'],
      refunded: false,
      created_at: '2026-11-21T23:30:00.000Z',
      expires_at: '2026-11-21T23:35:00.000Z',
      completed_at: '2026-11-21T23:30:08.120Z',
    });
    expect(toOrderView({ ...rec, status: 'active', completedAt: null, messages: [] })).toMatchObject({ code: null, sms: null, codes: [], completed_at: null });
  });
});

describe('USD numbers from JSON', () => {
  it('are exact to the micro-dollar and refuse finer or impossible amounts', async () => {
    const { usdNumberToMicros } = await import('../src/core/money.js');
    expect(usdNumberToMicros(0.1)).toBe(100_000);
    expect(usdNumberToMicros(1)).toBe(1_000_000);
    expect(usdNumberToMicros(0.000001)).toBe(1);
    expect(usdNumberToMicros(12.345678)).toBe(12_345_678);
    for (const bad of [0.1234567, -1, Number.NaN, Number.POSITIVE_INFINITY, 1e10]) expect(usdNumberToMicros(bad), String(bad)).toBeNull();
  });
});
