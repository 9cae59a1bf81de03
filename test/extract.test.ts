import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CONFIDENCE, extractCode } from '../src/core/extract.js';
import { SMS_CORPUS } from './fixtures/sms-corpus.js';

/** Corpus items the extractor may get wrong; the accuracy must stay at or above 97% as well. */
const ALLOWED_CORPUS_FAILURES = 3;
const REQUIRED_ACCURACY = 0.97;

const codeOf = (text: string, options?: Parameters<typeof extractCode>[1]): string | null =>
  extractCode(text, options)?.code ?? null;

describe('extractCode on the SMS corpus', () => {
  const results = SMS_CORPUS.map((sample) => {
    const got = codeOf(sample.text, sample.platform ? { platform: sample.platform } : undefined);
    return { sample, got, ok: got === sample.code };
  });
  const failures = results.filter((r) => !r.ok);
  const passed = results.length - failures.length;
  const accuracy = passed / results.length;
  const summary = `${passed} of ${results.length} (${(accuracy * 100).toFixed(1)}%)`;
  const details = failures
    .map((f) => `  expected ${JSON.stringify(f.sample.code)}, got ${JSON.stringify(f.got)}: ${JSON.stringify(f.sample.text)}`)
    .join('\n');

  it('has at least 100 messages, at least 12 of them without a code', () => {
    expect(SMS_CORPUS.length).toBeGreaterThanOrEqual(100);
    expect(SMS_CORPUS.filter((s) => s.code === null).length).toBeGreaterThanOrEqual(12);
  });

  it(`reads the corpus correctly: ${summary}`, () => {
    expect(failures.length, `accuracy ${summary}; failures:\n${details}`).toBeLessThanOrEqual(ALLOWED_CORPUS_FAILURES);
    expect(accuracy, `accuracy ${summary}`).toBeGreaterThanOrEqual(REQUIRED_ACCURACY);
  });

  it('reports a confidence in (0, 1] for every code it finds', () => {
    for (const { sample } of results) {
      const found = extractCode(sample.text, sample.platform ? { platform: sample.platform } : undefined);
      if (found) {
        expect(found.confidence).toBeGreaterThan(0);
        expect(found.confidence).toBeLessThanOrEqual(1);
      }
    }
  });
});

describe('order of trust', () => {
  it('trusts the provider code first, with confidence 1', () => {
    expect(extractCode('Your code is 111111', { providerCode: '222222' })).toEqual({ code: '222222', confidence: 1 });
    expect(extractCode('', { providerCode: ' 123-456 ' })).toEqual({ code: '123456', confidence: 1 });
    expect(extractCode('', { providerCode: 'G-482913' })).toEqual({ code: '482913', confidence: 1 });
    expect(extractCode('', { providerCode: '٤٨٢٩١٣' })).toEqual({ code: '482913', confidence: 1 });
  });

  it('falls back to the text when the provider code is null, empty or not a code', () => {
    expect(extractCode('Your code is 4821', { providerCode: null })).toEqual({ code: '4821', confidence: CONFIDENCE.keyword });
    expect(extractCode('Your code is 4821', { providerCode: '' })).toEqual({ code: '4821', confidence: CONFIDENCE.keyword });
    expect(extractCode('Your code is 4821', { providerCode: 'n/a ???' })?.code).toBe('4821');
  });

  it('takes the origin-bound last line (WebOTP) over everything in the body', () => {
    expect(extractCode('Your code is 111111.\n\n@example.com #222222')).toEqual({ code: '222222', confidence: CONFIDENCE.originBound });
    expect(extractCode('Code: 1234\n@shop.example #A1B2C3 @pay.example')).toEqual({ code: 'A1B2C3', confidence: 0.99 });
    expect(extractCode('Apple code 846201\n\n@apple.com #846201 %apple.com')?.confidence).toBe(CONFIDENCE.originBound);
  });

  it('ignores an origin-bound line that is not the last line', () => {
    expect(extractCode('@example.com #222222\nYour code is 111111')?.code).toBe('111111');
  });

  it('ranks platform + keyword above keyword, above platform shape, above generic', () => {
    expect(extractCode('Telegram code: 52917', { platform: 'telegram' })).toEqual({ code: '52917', confidence: CONFIDENCE.platformKeyword });
    expect(extractCode('Telegram code: 52917')).toEqual({ code: '52917', confidence: CONFIDENCE.keyword });
    expect(extractCode('Your code is 123456', { platform: 'uber' })).toEqual({ code: '123456', confidence: CONFIDENCE.keywordOffShape });
    expect(extractCode('Telegram 52917', { platform: 'telegram' })).toEqual({ code: '52917', confidence: CONFIDENCE.platformShape });
    expect(extractCode('Welcome back! 482913')).toEqual({ code: '482913', confidence: CONFIDENCE.generic });
  });

  it('prefers the number that fits the platform when a keyword is near both', () => {
    // Uber codes are four digits: the six-digit number is off-shape.
    expect(extractCode('Your code 123456 or code 4821', { platform: 'uber' })?.code).toBe('4821');
  });

  it('prefers the number closest to a keyword', () => {
    expect(extractCode('Hello 555123. Your verification code is 908172')?.code).toBe('908172');
  });

  it('accepts a platform given by alias or display name, and ignores unknown platforms', () => {
    expect(extractCode('code 52917', { platform: 'tg' })?.confidence).toBe(CONFIDENCE.platformKeyword);
    expect(extractCode('code 52917', { platform: 'Telegram' })?.confidence).toBe(CONFIDENCE.platformKeyword);
    expect(extractCode('code 52917', { platform: 'no-such-platform' })).toEqual({ code: '52917', confidence: CONFIDENCE.keyword });
  });
});

describe('platform rules', () => {
  it("reads Google's G- prefix", () => {
    expect(extractCode('G-582014 is your Google verification code.', { platform: 'google' })).toEqual({
      code: '582014',
      confidence: CONFIDENCE.platformKeyword,
    });
    expect(extractCode('G-582014')).toEqual({ code: '582014', confidence: CONFIDENCE.keyword });
  });

  it('reads Steam alphanumeric codes only for platforms whose codes are alphanumeric', () => {
    expect(extractCode('Your Steam verification code is: 4KX9B', { platform: 'steam' })).toEqual({
      code: '4KX9B',
      confidence: CONFIDENCE.platformKeyword,
    });
    expect(extractCode('Steam 4KX9B', { platform: 'steam' })).toEqual({ code: '4KX9B', confidence: CONFIDENCE.platformShape });
    expect(extractCode('Your Steam verification code is: 4KX9B')).toBeNull();
  });

  it('does not take an upper-case word for an alphanumeric code', () => {
    expect(extractCode('STEAM: NEVER share your account details', { platform: 'steam' })).toBeNull();
    expect(extractCode('STEAM code: BCDFG', { platform: 'steam' })?.code).toBe('BCDFG');
  });

  it('uses the expected length: Telegram 5, Uber 4, Coinbase 7', () => {
    expect(extractCode('Login code: 40381', { platform: 'telegram' })?.confidence).toBe(CONFIDENCE.platformKeyword);
    expect(extractCode('Your Uber code: 4821', { platform: 'uber' })?.confidence).toBe(CONFIDENCE.platformKeyword);
    expect(extractCode('Coinbase code: 2856104', { platform: 'coinbase' })?.confidence).toBe(CONFIDENCE.platformKeyword);
  });
});

describe('keywords in many languages', () => {
  const cases: [string, string][] = [
    ['Your code is 482913', '482913'],
    ['Tu código es 482913', '482913'],
    ['Tu codigo es 482913', '482913'],
    ['Seu código de verificação é 482913', '482913'],
    ['Ваш код: 482913', '482913'],
    ['Войдите с кодом 482913', '482913'],
    ['验证码：482913', '482913'],
    ['驗證碼：482913', '482913'],
    ['確認コード：482913', '482913'],
    ['인증번호 [482913]', '482913'],
    ['Twój kod: 482913', '482913'],
    ['Doğrulama kodu: 482913', '482913'],
    ['Il tuo codice: 482913', '482913'],
    ['Ihr Code: 482913', '482913'],
    ['Ihr Bestätigungscode: 482913', '482913'],
    ['Mã xác thực: 482913', '482913'],
    ['รหัสยืนยัน 482913', '482913'],
    ['رمز التحقق: 482913', '482913'],
    ['کد تایید: 482913', '482913'],
    ['Your OTP: 482913', '482913'],
    ['PIN: 4829', '4829'],
    ['One-time passcode 482913', '482913'],
    ['Kode verifikasi: 482913', '482913'],
    ['482913 is your verification code', '482913'],
  ];
  it.each(cases)('%s', (text, code) => {
    expect(extractCode(text)).toEqual({ code, confidence: CONFIDENCE.keyword });
  });
});

describe('accepted formats', () => {
  it('joins 123-456 and 123 456', () => {
    expect(codeOf('WhatsApp code: 123-456')).toBe('123456');
    expect(codeOf('123 456 is your Instagram code')).toBe('123456');
  });

  it('converts Arabic-Indic, Persian and full-width digits', () => {
    expect(codeOf('رمز التحقق: ٤٨٢٩١٣')).toBe('482913');
    expect(codeOf('کد تایید: ۴۸۲۹۱۳')).toBe('482913');
    expect(codeOf('認証コード：４８２９１３')).toBe('482913');
    expect(codeOf('رمز WhatsApp: ٤٨٢-٩١٣')).toBe('482913');
  });

  it('keeps leading zeros', () => {
    expect(codeOf('Your code is 004821')).toBe('004821');
  });

  it('finds the generic 4–8 digit number when nothing else matches', () => {
    expect(extractCode('Welcome! 4821')).toEqual({ code: '4821', confidence: CONFIDENCE.generic });
    expect(codeOf('Welcome! 123')).toBeNull();
    expect(codeOf('Welcome! 123456789')).toBeNull();
  });
});

describe('rejections', () => {
  it('rejects phone numbers', () => {
    expect(codeOf('Call +1 202 555 0143')).toBeNull();
    expect(codeOf('Call (415) 555-0100')).toBeNull();
    expect(codeOf('Questions? 1-800-869-3557')).toBeNull();
    expect(codeOf('Звоните 8 800 555-35-35')).toBeNull();
    expect(codeOf('Your code is 4821. Call +1 202 555 0143 if this was not you.')).toBe('4821');
  });

  it('rejects prices next to currency signs and words', () => {
    for (const price of ['$12.99', '1 500 ₽', '€5', '100 USD', 'R$ 20', '1.250,00 TL', 'Rp 150.000', '12,500원', '3,000円', 'INR 5,000.00']) {
      expect(codeOf(`Total ${price}`), price).toBeNull();
    }
    expect(codeOf('Paid $1234. Your code is 5821')).toBe('5821');
  });

  it('rejects dates and years', () => {
    expect(codeOf('See you in 2026')).toBeNull();
    expect(codeOf('Due 21/11/2026')).toBeNull();
    expect(codeOf('Due 2026-11-21')).toBeNull();
    expect(codeOf('Fällig am 21.11.2026')).toBeNull();
    expect(codeOf('2026年11月21日')).toBeNull();
    expect(codeOf('Your code: 2026')).toBe('2026'); // right after a keyword a year-like number is a code
  });

  it('rejects times', () => {
    expect(codeOf('Meet at 12:30')).toBeNull();
    expect(codeOf('Your code is 4821, sent at 12:30')).toBe('4821');
  });

  it('rejects promotion and discount codes', () => {
    expect(codeOf('Use code SAVE20 for 20% off')).toBeNull();
    expect(codeOf('Use discount code 123456 at checkout')).toBeNull();
    expect(codeOf('Your promo code: 482913')).toBeNull();
    expect(codeOf('Código de descuento 482913')).toBeNull();
    expect(codeOf('Промокод 482913')).toBeNull();
    expect(codeOf('Rabattcode 482913')).toBeNull();
    expect(codeOf('Your login code is 730182. Promo code 482913 gives 10% off.')).toBe('730182');
  });

  it('rejects labelled order, reference, card and tracking numbers', () => {
    expect(codeOf('Your order #12345678 has shipped')).toBeNull();
    expect(codeOf('ref 998877')).toBeNull();
    expect(codeOf('Card ending in 4421 was charged')).toBeNull();
    expect(codeOf('Карта *4421: покупка')).toBeNull();
    expect(codeOf('Заказ №48201937 доставлен')).toBeNull();
    expect(codeOf('订单号 30291847 已发货')).toBeNull();
    expect(codeOf('Your OTP is 118273 (ref 998877)')).toBe('118273');
  });

  it('rejects numbers inside URLs and e-mail addresses', () => {
    expect(codeOf('Open https://example.com/verify/482913')).toBeNull();
    expect(codeOf('Tap v.whatsapp.com/482913')).toBeNull();
    expect(codeOf('Write to user482913@example.com')).toBeNull();
  });

  it('rejects numbers glued to letters, percentages and opt-out short codes', () => {
    expect(codeOf('Battery 5000mAh')).toBeNull();
    expect(codeOf('Flight BA2490')).toBeNull();
    expect(codeOf('Save 1500%')).toBeNull();
    expect(codeOf('Reply STOP to 89203')).toBeNull();
  });

  it('returns null on empty or code-less text', () => {
    expect(extractCode('')).toBeNull();
    expect(extractCode('Hello there!')).toBeNull();
    expect(extractCode('Your verification code has expired.')).toBeNull();
  });
});

describe('properties', () => {
  it('finds any 4–8 digit code in a typical template', () => {
    const templates = [
      (c: string) => `Your code is ${c}. Don't share it.`,
      (c: string) => `${c} is your verification code.`,
      (c: string) => `Ваш код: ${c}`,
      (c: string) => `【App】验证码：${c}，5分钟内有效。`,
    ];
    fc.assert(
      fc.property(fc.stringMatching(/^\d{4,8}$/), fc.integer({ min: 0, max: templates.length - 1 }), (code, t) => {
        expect(codeOf(templates[t]!(code))).toBe(code);
      }),
    );
  });

  it('never throws on arbitrary text, and any confidence is in (0, 1]', () => {
    const check = (text: string, platform?: string): void => {
      const found = extractCode(text, platform ? { platform } : undefined);
      if (found) {
        expect(typeof found.code).toBe('string');
        expect(found.confidence).toBeGreaterThan(0);
        expect(found.confidence).toBeLessThanOrEqual(1);
      }
    };
    fc.assert(fc.property(fc.string({ unit: 'grapheme', maxLength: 200 }), (text) => check(text)));
    fc.assert(fc.property(fc.string({ unit: 'binary', maxLength: 200 }), fc.constantFrom('steam', 'telegram', 'google'), check));
    fc.assert(
      fc.property(fc.array(fc.constantFrom('code', ' ', '-', '123', '4', '#', '@a.b', '\n', '$', 'G-', '٤', 'X9', '%'), { maxLength: 40 }), (parts) =>
        check(parts.join(''), 'steam'),
      ),
    );
  });

  it('stays fast on long hostile input', () => {
    const started = Date.now();
    extractCode('1 '.repeat(20_000) + 'a'.repeat(20_000) + 'code'.repeat(5_000));
    expect(Date.now() - started).toBeLessThan(2_000);
  });
});
