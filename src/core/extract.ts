/**
 * Reads a verification code out of the text of an SMS. Pure functions, no I/O.
 *
 * Order of trust, most trusted first:
 *  1. a code the provider already parsed (`providerCode`);
 *  2. the origin-bound format (WebOTP): a last line `@example.com #123456`;
 *  3. a rule for the platform (expected length and alphabet from the catalog, Google's `G-`);
 *  4. a number next to a keyword (code, código, код, 验证码, コード, 인증번호, kod, OTP, …);
 *  5. a generic 4–8 digit number.
 *
 * Before looking for candidates, the text is normalised (Arabic-Indic, Persian and full-width
 * digits become ASCII) and the spans that only look like codes are masked out: URLs, e-mail
 * addresses, prices, phone numbers, dates, and numbers labelled as orders, references, cards or
 * parcels. Numbers that sit next to a promotion ("discount code", "promo code", "20% off") are
 * refused unless a real code keyword is closer.
 */
import { findPlatform, type Platform } from './catalogue/catalog.js';

export interface ExtractedCode {
  code: string;
  /** In (0, 1]: which rule matched, see {@link CONFIDENCE}. */
  confidence: number;
}

export interface ExtractOptions {
  /** A platform id, name or alias from the catalog (`telegram`, `steam`, `google`). */
  platform?: string;
  /** A code the provider already parsed; trusted over the text. */
  providerCode?: string | null;
}

/** The confidence reported for each rule. */
export const CONFIDENCE = {
  provider: 1,
  originBound: 0.99,
  platformKeyword: 0.95,
  keyword: 0.9,
  /** A keyword matched, but the platform's codes have another length or alphabet. */
  keywordOffShape: 0.8,
  platformShape: 0.75,
  generic: 0.5,
} as const;

type Shape = Platform['code'];

/** SMS are short; a cap keeps every regular expression linear on hostile input. */
const MAX_TEXT = 10_000;
/** Replaces masked spans: not a digit, not a letter, not a space, so it joins nothing. */
const MASK = '\uE000';

const MIN_DIGITS = 4;
const MAX_DIGITS = 8;

/** Keyword before the code: at most this many characters between them (a sentence break costs 15). */
const BEFORE_LIMIT = 48;
/** Keyword after the code ("123456 is your code"): a little stricter. */
const AFTER_LIMIT = 32;
const AFTER_PENALTY = 3;
/** A year such as 2026 counts as a code only right after a keyword ("code: 2026"). */
const YEAR_KEYWORD_LIMIT = 12;

export function extractCode(text: string, options: ExtractOptions = {}): ExtractedCode | null {
  const provided = cleanProviderCode(options.providerCode);
  if (provided !== null) return { code: provided, confidence: CONFIDENCE.provider };
  if (typeof text !== 'string' || text.length === 0) return null;

  const normalised = normalise(text.slice(0, MAX_TEXT));
  const origin = originBoundCode(normalised);
  if (origin !== null) return { code: origin, confidence: CONFIDENCE.originBound };

  const shape = options.platform ? findPlatform(options.platform)?.code : undefined;
  const masked = maskDistractors(normalised);
  const anchors = findAnchors(masked);
  const candidates = digitCandidates(masked, shape);
  if (shape?.alphabet === 'alnum') candidates.push(...alnumCandidates(masked, shape.length));

  let best: Scored | null = null;
  for (const candidate of candidates) {
    const scored = score(candidate, anchors, masked, shape);
    if (scored && (!best || ranksAbove(scored, best))) best = scored;
  }
  return best ? { code: best.code, confidence: best.confidence } : null;
}

// ---------------------------------------------------------------------------------------------
// 1. Provider code

function cleanProviderCode(value: string | null | undefined): string | null {
  if (typeof value !== 'string') return null;
  let code = normaliseDigits(value.normalize('NFKC')).trim();
  code = code.replace(/^(?:G|FB)-(?=\d)/, '').replace(/(?<=[A-Za-z0-9])[\s-](?=[A-Za-z0-9])/g, '');
  return /^[A-Za-z0-9]{3,16}$/.test(code) ? code : null;
}

// ---------------------------------------------------------------------------------------------
// Normalisation

/** Code points of the digit zero in the decimal digit blocks SMS text uses. */
const DIGIT_ZEROS = [0x0660, 0x06f0, 0x07c0, 0x0966, 0x09e6, 0x0a66, 0x0ae6, 0x0be6, 0x0e50, 0x0ed0, 0x1040, 0x17e0, 0xff10];

function normaliseDigits(text: string): string {
  return text.replace(/\p{Nd}/gu, (digit) => {
    const cp = digit.codePointAt(0)!;
    for (const zero of DIGIT_ZEROS) if (cp >= zero && cp <= zero + 9) return String(cp - zero);
    return digit;
  });
}

function normalise(text: string): string {
  // NFKC folds full-width digits, letters and punctuation (１２３, ：, ＃) and no-break spaces.
  return normaliseDigits(text.normalize('NFKC'))
    .replace(/\r\n?/g, '\n')
    .replace(/[\u00ad\u200b-\u200f\u202a-\u202e\u2060-\u2069\ufeff]/g, '') // invisible and bidi marks
    .replace(/\u066b/g, '.') // Arabic decimal separator
    .replace(/[\u066c\u060c]/g, ',') // Arabic thousands separator, Arabic comma
    .replace(/[\t\u2000-\u200a\u202f\u205f\u3000]/g, ' ')
    .replace(/\uE000/g, ' ');
}

// ---------------------------------------------------------------------------------------------
// 2. Origin-bound (WebOTP / Apple domain-bound codes): last line `@host #code [@host | %host]…`

const ORIGIN_LINE = /^@[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?(?::\d{1,5})? +#([a-z0-9]{3,16})(?: +[@%][a-z0-9.:-]+)* *$/i;

function originBoundCode(text: string): string | null {
  const lines = text.split('\n').map((line) => line.trim()).filter((line) => line !== '');
  const last = lines.at(-1);
  const match = last ? ORIGIN_LINE.exec(last) : null;
  return match ? match[1]! : null;
}

// ---------------------------------------------------------------------------------------------
// Masking of distractors

const CURRENCY_SYMBOLS = '$€£¥₽₹₺₩₫฿₴₦₱₸₼₾₪';
const CURRENCY_BEFORE_WORDS =
  'R\\$|US\\$|A\\$|C\\$|HK\\$|S\\$|NT\\$|Rp\\.?|Rs\\.?|RM|INR|USD|EUR|GBP|RUB|BRL|TRY|TL|JPY|CNY|RMB|IDR|VND|MXN|PLN|CHF|AED|SAR|EGP|KWD|QAR|UAH|KZT|SEK|NOK|DKK|CZK|HUF|RON|ZAR|NGN|PHP|THB|MYR|SGD|HKD|KRW|TWD';
const CURRENCY_AFTER_WORDS =
  'INR|USD|EUR|GBP|RUB|RUR|BRL|TRY|TL|JPY|CNY|RMB|IDR|VND|VNĐ|MXN|PLN|CHF|AED|SAR|EGP|KWD|QAR|UAH|KZT|SEK|NOK|DKK|CZK|HUF|RON|ZAR|NGN|PHP|THB|MYR|SGD|HKD|KRW|TWD|' +
  'руб\\.?|рублей|рубля|рубль|р\\.?|грн|тг|zł|zl|Kč|Ft|kr|lei|đ|đồng|dong|euros?|dollars?|reais|real|pesos?|rupees?|rupiah|yuan|yen|won|baht|lira|liras|' +
  'ريال|ر\\.س|درهم|جنيه|دينار|تومان|ریال|บาท|元|円|원|块|圆';
/** 1 500, 1.500,00, 1,250.00, 12,99, 150.000 */
const AMOUNT = "\\d+(?:[ ,.'’]\\d{3}(?!\\d))*(?:[.,]\\d{1,2}(?!\\d))?";

/**
 * Built on first use, not at import: compiling these Unicode, case-insensitive patterns is most of
 * the extractor's cost, and a process that never reads an SMS text (a provider-parsed code, a
 * `tn --help`) should not pay it.
 */
const maskPatterns = once((): readonly RegExp[] => [
  // URLs, bare domains with a path, e-mail addresses.
  /(?:https?:\/\/|www\.)\S+/giu,
  /(?<![\p{L}\p{N}@.])(?:[a-z0-9-]+\.)+[a-z]{2,}\/\S*/giu,
  /[\p{L}\p{N}._%+-]+@[\p{L}\p{N}-]+(?:\.[\p{L}\p{N}-]+)+/gu,
  // Prices: a currency sign or word before or after an amount.
  new RegExp(`(?:[${CURRENCY_SYMBOLS}]|(?<!\\p{L})(?:${CURRENCY_BEFORE_WORDS}))\\s?-?${AMOUNT}`, 'giu'),
  new RegExp(`${AMOUNT}\\s?(?:[${CURRENCY_SYMBOLS}]|(?:${CURRENCY_AFTER_WORDS})(?!\\p{L}))`, 'giu'),
  // Phone numbers: international, with an area code in brackets, after a "call us" label.
  /\+\d{1,4}(?:[ .-]?\(?\d{1,5}\)?(?!\d)){1,6}/gu,
  /\(\d{2,5}\) ?\d{2,8}(?:[ .-]?\d{2,5}(?!\d)){0,3}/gu,
  /(?<!\p{L})(?:call|tel|phone|ph|mob|mobile|fax|hotline|helpline|text|txt|dial|llame|llama|ligue|liga|anrufen|appelez|chiama|arayın|zadzwoń|звоните|позвоните|тел|телефон|اتصل|تماس|gọi|goi|โทร|hubungi|telp|電話|电话|客服|전화)(?!\p{L})(?:\s*(?:us|at|on|to|al|au|no\.?|number|nr\.?|:|\.|-))*\s*\+?[\d(][\d ().-]*\d/giu,
  // Opt-out short codes: "Reply STOP to 89203".
  /(?<!\p{L})(?:STOP|STOP ALL|HELP|START|UNSTOP|STOPP|ARRET|ARRÊT|SAIR|PARAR|BAJA|СТОП)(?!\p{L})[^\d\n.!?]{0,20}\+?\d[\d -]*\d/gu,
  /(?<!\p{L})(?:text|txt|send|sms|reply|envía|envia|manda|senden|envoyez|invia|отправьте)(?!\p{L})[^\d\n.!?]{0,25}?(?<!\p{L})(?:to|al|para|an|au|на)\s+\d+/giu,
  // Dates: 21/11/2026, 2026-11-21, 21.11.2026; CJK date and time units (2026年, 11月21日, 14時, 10분).
  /(?<!\d)\d{1,4}([./-])\d{1,2}\1\d{1,4}(?!\d)/gu,
  /\d+ ?(?:年|月|日|時|时|分|秒|点|點|년|월|일|시|분|초)/gu,
  // Labelled numbers: orders, references, invoices, parcels, tickets, cards ("ending in 4421").
  new RegExp(
    '(?<!\\p{L})(?:' +
      'orders?|ord|ref|refs|reference|invoice|inv|receipt|bill|tracking|track|awb|shipment|parcel|package|pkg|booking|reservation|ticket|flight|train|bus|gate|seat|room|apt|suite|unit|ext|extension|' +
      'stop|platform|terminal|trip|ride|store|branch|vehicle|plate|route|account|acct|a/c|card|customer|member|membership|policy|claim|case|transaction|txn|trx|utr|rrn|ending|ends|confirmation number|confirmation no|' +
      'pedido|encomenda|orden|referencia|referência|factura|fatura|tarjeta|cartão|cartao|terminada en|terminado em|final|' +
      'заказ\\p{L}*|счет\\p{L}*|счёт\\p{L}*|карт\\p{L}*|посылк\\p{L}*|отправлени\\p{L}*|' +
      'bestellung|bestellnummer|auftragsnummer|sendung\\p{L}*|rechnung|kundennummer|konto|karte|endend auf|' +
      'commande|facture|colis|carte|réf|ordine|fattura|spedizione|carta|' +
      'sipariş\\p{L}*|siparis\\p{L}*|kargo|takip|kart\\p{L}*|' +
      'zamówieni\\p{L}*|zamowieni\\p{L}*|przesyłk\\p{L}*|paczk\\p{L}*|faktur\\p{L}*|rachun\\p{L}*|operacja|' +
      'đơn hàng|don hang|pesanan|resi|tagihan|kartu|' +
      'طلب|الطلب|الطلبية|بطاقة|بطاقتك|المنتهية\\p{L}*|سفارش|کارت' +
      ')(?!\\p{L})' +
      '(?:[\\s:#№.-]|no\\.?|nr\\.?|n[º°o]\\.?|num(?:ber|ero|éro|mer)?\\.?|número|numer|nummer|номер|رقم|شماره|id|in|with|en|em|auf|par|con|ile|na|z|ب|بـ)*' +
      '[A-Z]{0,4}-?\\d[\\d-]*',
    'giu',
  ),
  /(?:订单|訂單|单号|單號|运单|運單|快递|快遞|尾号|尾號|注文番号|注文|伝票番号|伝票|お問い合わせ番号|주문번호|주문|송장번호|송장|คำสั่งซื้อ|พัสดุ)[\s:#№号號は는]*\d[\d-]*/gu,
  // Masked card numbers: ****1234, •••• 1234, *1234.
  /[*•·]+ ?\d{2,6}/gu,
]);

function maskDistractors(text: string): string {
  let masked = text;
  for (const re of maskPatterns()) masked = masked.replace(re, (span) => MASK.repeat(span.length));
  return masked;
}

// ---------------------------------------------------------------------------------------------
// Keywords (positive anchors) and promotions (negative anchors)

interface Anchor {
  start: number;
  end: number;
  positive: boolean;
}

/** Built on first use, for the reason given at {@link maskPatterns}. */
const anchorPatterns = once(() => ({
  /** Compound-friendly keywords: the prefix tells a Bestätigungscode from a Rabattcode or a промокод. */
  compound: [
    /(?<!\p{L})(\p{L}*?)(?:codes?|k[oó]d(?:u|e|y|a|em|zie|en|un|unu|unuz|lar\p{L}*)?|kode)(?!\p{L})/giu,
    /(?<!\p{L})(\p{L}*?)(?:код\p{L}{0,3})(?!\p{L})/giu,
  ],
  negativePrefix:
    /^(?:rabatt|gutschein|aktions|promo|bar|post|zip|qr|voucher|coupon|discount|gift|rabat|kupon|indirim|kampanya|rea|korting|штрих|промо|купон|подароч)/iu,
  keywords: [
    /(?<!\p{L})(?:codice|codici|código|códigos|codigo|clave|contraseña|senha|otp|pin|passcode|password|passwort|kennwort|mot de passe|hasło|haslo|hasła|şifre\p{L}*|sifre\p{L}*|one[- ]?time|einmal\p{L}*|verif\p{L}*|vérif\p{L}*|weryfik\p{L}*|doğrulama|dogrulama|bestätigung\p{L}*|xác thực|xác minh|xác nhận|xac thuc|xac minh|xac nhan|ma xac|mã|2fa|token|пароль|парол\p{L}*|подтвержд\p{L}*|κωδικ\p{L}*|קוד|कोड|ओटीपी|sandi|autentica\p{L}*|authenticat\p{L}*)(?!\p{L})/giu,
    /(?<!\p{L})(?:m|sms|push|chip|photo)?TAN(?!\p{L})/gu,
    /验证码|驗證碼|校验码|校驗碼|动态码|動態碼|动态密码|動態密碼|确认码|確認碼|认证码|認證碼|验证|驗證|代码|代碼|密码|密碼|口令|認証番号|確認番号|暗証番号|コード|パスワード|パスコード|認証|인증번호|인증 번호|인증코드|인증|확인코드|확인 코드|코드|비밀번호|รหัส|ยืนยัน|رمز|كود|كلمة المرور|التحقق|التفعيل|(?<!\p{L})(?:کد|كد)|تایید|تأیید|تائید|کلمه عبور/gu,
  ],
  negatives: [
    /(?<!\p{L})(?:promo\p{L}*|discount\p{L}*|coupon\p{L}*|voucher\p{L}*|referral|gift|redeem\p{L}*|checkout|sale|off|rabatt\p{L}*|gutschein\p{L}*|descuento\p{L}*|desconto\p{L}*|cup[oó]n\p{L}*|cupom|cupons|promocional|oferta|sconto|buono|indirim\p{L}*|kampanya\p{L}*|kupon\p{L}*|rabat\p{L}*|promocyjn\p{L}*|скидк\p{L}*|промо\p{L}*|купон\p{L}*|акци\p{L}*|réduction|remise|giảm giá|giam gia|khuyến mãi|khuyen mai|ưu đãi|diskon|potongan|خصم|كوبون|تخفیف|کوپن|zip|postal|postcode|area|country|save|win|won|winner|prize|free|gratis|gratuit|kostenlos|бесплатно)(?!\p{L})/giu,
    /优惠|折扣|優惠|促销|促銷|兑换|兌換|礼品|禮品|クーポン|割引|プロモ|セール|할인|쿠폰|프로모션|ส่วนลด|โปรโมชั่น|โปรโมชัน|โค้ด/gu,
    /\d+ ?%|%/gu,
  ],
}));

/** A keyword next to a promotion word ("promo code", "código de descuento") is itself a promotion. */
const NEGATION_REACH = 15;

function findAnchors(masked: string): Anchor[] {
  const positives: Anchor[] = [];
  const negatives: Anchor[] = [];
  const patterns = anchorPatterns();
  for (const re of patterns.compound) {
    for (const m of masked.matchAll(re)) {
      const positive = !patterns.negativePrefix.test(m[1] ?? '');
      (positive ? positives : negatives).push({ start: m.index, end: m.index + m[0].length, positive });
    }
  }
  for (const re of patterns.keywords) {
    for (const m of masked.matchAll(re)) positives.push({ start: m.index, end: m.index + m[0].length, positive: true });
  }
  for (const re of patterns.negatives) {
    for (const m of masked.matchAll(re)) negatives.push({ start: m.index, end: m.index + m[0].length, positive: false });
  }
  for (const anchor of positives) {
    const negated = negatives.some((n) => sameSentenceDistance(masked, anchor, n) <= NEGATION_REACH);
    if (negated) anchor.positive = false;
  }
  return [...positives, ...negatives];
}

/** Characters between two spans; runs of masked text count as one; a sentence break costs 15. */
function gapCost(text: string, from: number, to: number): number {
  const gap = text.slice(from, to).replace(/\uE000+/g, MASK);
  const breaks = gap.match(/[.!?](?=\s|$)|[。！？]|\n\s*\n/g)?.length ?? 0;
  return gap.length + 15 * breaks;
}

function hasSentenceBreak(text: string, from: number, to: number): boolean {
  return /[.!?](?=\s|$)|[。！？\n]/.test(text.slice(from, to));
}

function sameSentenceDistance(text: string, a: { start: number; end: number }, b: { start: number; end: number }): number {
  if (a.end <= b.start) return hasSentenceBreak(text, a.end, b.start) ? Infinity : b.start - a.end;
  if (b.end <= a.start) return hasSentenceBreak(text, b.end, a.start) ? Infinity : a.start - b.end;
  return 0;
}

// ---------------------------------------------------------------------------------------------
// Candidates

interface Candidate {
  code: string;
  start: number;
  end: number;
  /** `G-123456`: the prefix is as good as a keyword. */
  prefixed: boolean;
  /** 19xx or 20xx alone: probably a year. */
  yearLike: boolean;
  /** An alphanumeric candidate made of letters only (a word unless a keyword vouches for it). */
  lettersOnly: boolean;
}

/** Digits are not a code when glued to Latin, Cyrillic or Greek letters (5000mAh, VISA1234, 2026г). */
const LETTER = /[\p{Script=Latin}\p{Script=Cyrillic}\p{Script=Greek}]/u;
const BAD_BEFORE = /[+*•№@/\\_]/u;
const BAD_AFTER = /[%‰+°_@]/u;
const RUN = /\d+(?:[ \-.,/:'’]\d+)*/g;
/** A quantity, not a code: 5000 points, 1500 bonus miles, 2048 MB, 1200 积分. */
const UNIT_AFTER =
  /^ ?(?:points?|pts|miles|bonus|coins|credits?|steps|km|kg|mb|gb|tb|kb|mins?|minutes?|hours?|hrs?|days?|nights?|sms|messages|users|people|баллов|балла|бонус\p{L}*|милей|puntos|pontos|punkte|punti|puan|punktów|punkty|điểm|poin|积分|積分|ポイント|포인트|คะแนน|امتیاز|نقطة|نقاط)(?!\p{L})/iu;

function digitCandidates(masked: string, shape: Shape | undefined): Candidate[] {
  const out: Candidate[] = [];
  const lengthOk = (n: number): boolean => (n >= MIN_DIGITS && n <= MAX_DIGITS) || n === shape?.length;
  for (const m of masked.matchAll(RUN)) {
    const run = m[0];
    const start = m.index;
    const end = start + run.length;
    const prev = masked[start - 1] ?? '';
    const next = masked[end] ?? '';
    let prefixed = false;
    if (prev === '-' && /(?:^|[^\p{L}\p{N}])(?:G|FB)-$/u.test(masked.slice(Math.max(0, start - 4), start))) {
      prefixed = true;
    } else if (prev === '-' && LETTER.test(masked[start - 2] ?? '')) {
      continue; // AB-1234, MIR-4421: a reference, not a code
    } else if (LETTER.test(prev) || BAD_BEFORE.test(prev) || (prev === '.' && LETTER.test(masked[start - 2] ?? ''))) {
      continue;
    }
    if (LETTER.test(next) || BAD_AFTER.test(next)) continue;

    const groups: { text: string; start: number }[] = [];
    let offset = 0;
    for (const part of run.split(' ')) {
      groups.push({ text: part, start: start + offset });
      offset += part.length + 1;
    }
    const digitish = groups.every((g) => /^\d+(?:-\d+)*$/.test(g.text));
    const totalDigits = run.replace(/\D/g, '').length;
    if (groups.length >= 3 && digitish) continue; // phone numbers, card numbers, IBANs, tracking numbers
    if (groups.length === 2 && groups.every((g) => /^\d{3}$/.test(g.text))) {
      out.push(candidate(groups[0]!.text + groups[1]!.text, start, end, prefixed, false));
      continue;
    }
    if (groups.length === 2 && digitish && totalDigits >= 9) continue;
    for (const g of groups) {
      const gEnd = g.start + g.text.length;
      if (UNIT_AFTER.test(masked.slice(gEnd, gEnd + 24))) continue;
      if (/^\d+$/.test(g.text) && lengthOk(g.text.length)) {
        out.push(candidate(g.text, g.start, gEnd, prefixed && g.start === start, true));
      } else if (/^\d{3}-\d{3}$/.test(g.text)) {
        out.push(candidate(g.text.replace('-', ''), g.start, gEnd, prefixed && g.start === start, false));
      }
    }
  }
  return out;
}

function candidate(code: string, start: number, end: number, prefixed: boolean, single: boolean): Candidate {
  return { code, start, end, prefixed, yearLike: single && !prefixed && /^(?:19|20)\d\d$/.test(code), lettersOnly: false };
}

function alnumCandidates(masked: string, length: number): Candidate[] {
  const out: Candidate[] = [];
  for (const m of masked.matchAll(/[\p{L}\p{N}]+/gu)) {
    const token = m[0];
    if (token.length !== length || !/^[A-Z0-9]+$/.test(token) || /^\d+$/.test(token)) continue;
    const prev = masked[m.index - 1] ?? '';
    const next = masked[m.index + token.length] ?? '';
    if (/[-./@#]/.test(prev) || /[-/@]/.test(next)) continue;
    const lettersOnly = /^[A-Z]+$/.test(token);
    // An all-letter token with a vowel is a word (STEAM, NEVER); generated codes avoid words.
    if (lettersOnly && /[AEIOU]/.test(token)) continue;
    out.push({ code: token, start: m.index, end: m.index + token.length, prefixed: false, yearLike: false, lettersOnly });
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Scoring

interface Scored {
  code: string;
  confidence: number;
  cost: number;
  lettersOnly: boolean;
  sixDigits: boolean;
  start: number;
}

const NEGATIVE_BEFORE_LIMIT = 30;
const NEGATIVE_AFTER_LIMIT = 20;

function keywordCost(c: Candidate, anchors: readonly Anchor[], text: string): number {
  if (c.prefixed) return 0;
  let best = Infinity;
  for (const a of anchors) {
    if (!a.positive) continue;
    if (a.end <= c.start) {
      const cost = gapCost(text, a.end, c.start);
      if (cost <= BEFORE_LIMIT) best = Math.min(best, cost);
    } else if (a.start >= c.end) {
      const cost = gapCost(text, c.end, a.start) + AFTER_PENALTY;
      if (cost <= AFTER_LIMIT) best = Math.min(best, cost);
    }
  }
  return best;
}

function promotionCost(c: Candidate, anchors: readonly Anchor[], text: string): number {
  let best = Infinity;
  for (const a of anchors) {
    if (a.positive) continue;
    const d = sameSentenceDistance(text, c, a);
    const limit = a.end <= c.start ? NEGATIVE_BEFORE_LIMIT : NEGATIVE_AFTER_LIMIT;
    if (d <= limit) best = Math.min(best, d);
  }
  return best;
}

function fits(code: string, shape: Shape): boolean {
  return code.length === shape.length && (shape.alphabet === 'digits' ? /^\d+$/.test(code) : /^[A-Z0-9]+$/.test(code));
}

/** `ABC 1234`, `BA 2490`: capitals then the number, a plate or a flight; too weak for the generic rule. */
const IDENTIFIER_BEFORE = /(?:^|[^\p{L}])\p{Lu}{1,3} $/u;

function score(c: Candidate, anchors: readonly Anchor[], text: string, shape: Shape | undefined): Scored | null {
  const cost = keywordCost(c, anchors, text);
  const promotion = promotionCost(c, anchors, text);
  if (Number.isFinite(promotion) && promotion <= cost) return null;
  const keyword = Number.isFinite(cost);
  const shapeMatch = shape ? fits(c.code, shape) : undefined;
  // A platform with 4-digit codes (Uber) sends codes like 1998: with a keyword in the sentence, that is the code.
  if (c.yearLike && !(cost <= YEAR_KEYWORD_LIMIT || (keyword && shapeMatch === true))) return null;
  const isDigits = /^\d+$/.test(c.code);
  if (!isDigits && !keyword && c.lettersOnly) return null;

  let confidence: number;
  if (keyword) {
    confidence = shapeMatch === true ? CONFIDENCE.platformKeyword : shapeMatch === undefined ? CONFIDENCE.keyword : CONFIDENCE.keywordOffShape;
  } else if (shapeMatch === true) {
    confidence = CONFIDENCE.platformShape;
  } else if (isDigits && c.code.length >= MIN_DIGITS && c.code.length <= MAX_DIGITS && !IDENTIFIER_BEFORE.test(text.slice(Math.max(0, c.start - 5), c.start))) {
    confidence = CONFIDENCE.generic;
  } else {
    return null;
  }
  return { code: c.code, confidence, cost, lettersOnly: c.lettersOnly, sixDigits: c.code.length === 6, start: c.start };
}

function ranksAbove(a: Scored, b: Scored): boolean {
  if (a.confidence !== b.confidence) return a.confidence > b.confidence;
  if (a.cost !== b.cost) return a.cost < b.cost;
  if (a.lettersOnly !== b.lettersOnly) return !a.lettersOnly;
  if (a.sixDigits !== b.sixDigits) return a.sixDigits;
  return a.start < b.start;
}

function once<T>(build: () => T): () => T {
  let value: T | undefined;
  return () => (value ??= build());
}
