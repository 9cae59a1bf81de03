import { formatUsd, toUsd, type Micros } from './money.js';
/**
 * Every failure the broker can report, with its HTTP status, its `error.code` and the CLI exit
 * code, in one table. The server, the remote client and the CLI all read it; nothing else maps
 * errors to numbers.
 */
export const ERRORS = {
  invalid_request: { status: 400, exit: 2 },
  unknown_platform: { status: 400, exit: 2 },
  unknown_country: { status: 400, exit: 2 },
  batch_too_large: { status: 400, exit: 2 },
  unauthorized: { status: 401, exit: 3 },
  forbidden: { status: 403, exit: 3 },
  insufficient_balance: { status: 402, exit: 4 },
  price_above_max: { status: 402, exit: 4 },
  not_found: { status: 404, exit: 6 },
  order_not_active: { status: 409, exit: 9 },
  payload_too_large: { status: 413, exit: 2 },
  idempotency_key_reused: { status: 422, exit: 9 },
  rate_limited: { status: 429, exit: 7 },
  delivery_rate_low: { status: 429, exit: 7 },
  no_numbers: { status: 503, exit: 8 },
  unavailable: { status: 503, exit: 8 },
  internal: { status: 500, exit: 1 },
} as const satisfies Record<string, { status: number; exit: number }>;

export type ErrorCode = keyof typeof ERRORS;

/** Exit codes of `tn`, as documented in `tn help exit-codes`. */
export const EXIT = {
  ok: 0,
  bug: 1,
  usage: 2,
  auth: 3,
  balance: 4,
  noCode: 5,
  notFound: 6,
  rateLimited: 7,
  unavailable: 8,
  conflict: 9,
} as const;

export const EXIT_CODE_HELP: ReadonlyArray<readonly [number, string]> = [
  [EXIT.ok, 'success'],
  [EXIT.bug, 'unexpected error (a bug)'],
  [EXIT.usage, 'usage error: unknown command or option, invalid argument (also a 400 from the broker, such as an unknown platform, and 413)'],
  [EXIT.auth, 'not authenticated (401), not allowed (403) or no API key configured'],
  [EXIT.balance, 'insufficient balance (402); also price_above_max, a price above your --max-price'],
  [EXIT.noCode, 'no code: the wait timed out, the order expired, was cancelled or failed'],
  [EXIT.notFound, 'not found (404)'],
  [EXIT.rateLimited, "rate limited (429) after the client's own retries; also delivery_rate_low, orders paused where recent ones got no SMS"],
  [EXIT.unavailable, 'service unavailable: 503, connection refused, DNS failure, network timeout'],
  [EXIT.conflict, "conflict: the order's state does not allow it (409), an idempotency key reused with other parameters (422)"],
];

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  status: number;
  [extra: string]: unknown;
}

/** A failure the caller can act on. `details` are extra fields of the error body (`balance`, `price`, `retry_after`). */
export class TnError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;

  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = 'TnError';
    this.code = code;
    this.details = details;
  }

  get status(): number {
    return ERRORS[this.code].status;
  }

  get exitCode(): number {
    return ERRORS[this.code].exit;
  }

  toBody(): ErrorBody {
    return { code: this.code, message: this.message, status: this.status, ...this.details };
  }

  static fromBody(body: { code?: unknown; message?: unknown; status?: unknown; [k: string]: unknown }): TnError {
    const { code, message, status: _status, ...details } = body;
    const known = typeof code === 'string' && code in ERRORS ? (code as ErrorCode) : 'internal';
    return new TnError(known, typeof message === 'string' ? message : 'Unknown error', details);
  }
}

export const invalid = (message: string): TnError => new TnError('invalid_request', message);
export const notFound = (what: string): TnError => new TnError('not_found', `${what} not found.`);

export function isTnError(err: unknown): err is TnError {
  return err instanceof TnError;
}

/** The exit code for an `error.code` received in a body (unknown codes are bugs). */
export const exitCodeFor = (code: string): number =>
  Object.hasOwn(ERRORS, code) ? ERRORS[code as ErrorCode].exit : EXIT.bug;

/**
 * The refusal of an order whose price is above the customer's limit (`max_price`, the agent's
 * "under $0.20", sms-activate's `maxPrice`), before anything is charged. A 402 like a short
 * balance: the request is well formed, the money it allows is not enough.
 */
export function aboveLimit(price: Micros, limit: Micros): TnError {
  return new TnError('price_above_max', `The price ${formatUsd(price)} is above your limit of ${formatUsd(limit)}: nothing was ordered.`, {
    limit: toUsd(limit),
    price: toUsd(price),
  });
}

/** The refusal of an order the balance does not cover; the same whether found before buying or in the order's transaction. */
export function insufficientBalance(balance: Micros, price: Micros): TnError {
  return new TnError('insufficient_balance', `Balance ${formatUsd(balance)} is below the price ${formatUsd(price)}.`, {
    balance: toUsd(balance),
    price: toUsd(price),
  });
}
