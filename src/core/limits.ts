/**
 * Every bound of the contract, in one place: the core enforces them, the server's schemas, the
 * CLI's option parsers and the remote client read them from here.
 */

/** `POST /verify`'s `timeout_seconds` (API.md §5). */
export const VERIFY_TIMEOUT = { min: 30, max: 300, default: 120 } as const;
/** `verify --attempts` / `attempts`: numbers tried in turn by one verify (issue 17 §1). */
export const VERIFY_ATTEMPTS = { min: 1, max: 10, default: 1 } as const;
/** `--per-attempt` / `per_attempt_seconds`: how long each of those numbers gets for its SMS. */
export const PER_ATTEMPT_SECONDS = { min: 30, max: 300, default: 60 } as const;
/** The server never holds a verify past its timeout plus this. */
export const VERIFY_GRACE_MS = 5_000;
/** Items of one `POST /batch`. */
export const BATCH_MAX = 20;
/** Default lifetime of an order (API.md §3). */
export const ORDER_TTL_MS = 300_000;
/** Idempotency keys: at most this long, honoured this long (Stripe's 24 h). */
export const IDEMPOTENCY_KEY_MAX = 255;
export const IDEMPOTENCY_TTL_MS = 24 * 3600_000;
/** What an order id looks like where one is accepted (`ord_` + a ULID, with room for other brokers' ids). */
export const ORDER_ID_PATTERN = '^[A-Za-z0-9_-]{1,64}$';
export const ORDER_ID_MAX = 64;
/** A page of the order history. */
export const ORDER_PAGE = { maxPage: 1_000_000, maxLimit: 100, defaultLimit: 20 } as const;
/** `GET /usage?days=`. */
export const USAGE_DAYS = { min: 1, max: 365, default: 30 } as const;
/** Request bodies (API.md §4: 413 above this). */
export const BODY_LIMIT = 64 * 1024;
/** Webhook URLs. */
export const WEBHOOK_URL_MAX = 2048;
/** How long a rotated-out webhook secret keeps signing. */
export const SECRET_OVERLAP_MS = 24 * 3600_000;
/** The agent reads queries of at most this many characters, and orders at most this many numbers at once. */
export const AGENT_MAX_QUERY_LENGTH = 500;
/** Default rate limits (API.md §5): per key per second (bursts of twice that), `register` per client IP per hour. */
export const DEFAULT_RATE_LIMITS = { perKeyPerSecond: 100, registerPerHour: 30 } as const;
/** A source's name becomes part of its inbound URL. */
export const SOURCE_NAME_PATTERN = '^[a-z0-9][a-z0-9_-]{0,39}$';
/** Secrets of sources: tokens, signing keys, API keys. */
export const SOURCE_SECRET = { min: 8, max: 512 } as const;
/** The longest rest a pool number may be given, and its default. */
export const MAX_COOLDOWN_MS = 7 * 86_400_000;
export const DEFAULT_POOL_COOLDOWN_MS = 300_000;
/** An upstream activation is polled this often while its order waits (the shared bucket may space polls further). */
export const DEFAULT_POLL_MS = 3_000;

/** The `retry:` every event stream opens with: how long a browser or `eventsource` waits before reconnecting. */
export const SSE_RETRY_MS = 3000;
