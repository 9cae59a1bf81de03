/**
 * Numbered schema migrations, applied in order and tracked with `PRAGMA user_version`.
 * Never edit one that has shipped: add the next.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: accounts, ledger, orders, received SMS, idempotency keys.
  `
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    balance INTEGER NOT NULL CHECK (balance >= 0),
    created_at INTEGER NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    webhook_secret TEXT NOT NULL,
    webhook_url TEXT
  ) STRICT;

  CREATE TABLE ledger (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL CHECK (kind IN ('deposit', 'order_debit', 'refund', 'adjustment')),
    amount INTEGER NOT NULL,
    order_id TEXT REFERENCES orders(id),
    note TEXT NOT NULL DEFAULT '',
    created_at INTEGER NOT NULL,
    CHECK ((kind IN ('order_debit', 'refund')) = (order_id IS NOT NULL))
  ) STRICT;
  CREATE INDEX ledger_account ON ledger(account_id);
  CREATE UNIQUE INDEX ledger_one_debit ON ledger(order_id) WHERE kind = 'order_debit';
  CREATE UNIQUE INDEX ledger_one_refund ON ledger(order_id) WHERE kind = 'refund';

  CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    platform TEXT NOT NULL,
    country TEXT NOT NULL,
    phone TEXT NOT NULL,
    source TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0),
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'cancelled', 'expired', 'failed')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    completed_at INTEGER,
    ended_at INTEGER,
    refunded INTEGER NOT NULL DEFAULT 0,
    sms_due_at INTEGER
  ) STRICT;
  CREATE INDEX orders_account_created ON orders(account_id, created_at DESC);
  CREATE INDEX orders_created ON orders(created_at);
  CREATE INDEX orders_expiry ON orders(expires_at) WHERE status = 'active';
  CREATE INDEX orders_sms_due ON orders(sms_due_at) WHERE status = 'active' AND sms_due_at IS NOT NULL;
  CREATE INDEX orders_number ON orders(platform, country, status);
  -- A number serves one active order per platform at a time.
  CREATE UNIQUE INDEX orders_one_active_per_number ON orders(phone, platform) WHERE status = 'active';

  CREATE TABLE sms (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    order_id TEXT NOT NULL REFERENCES orders(id),
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    code TEXT,
    accepted INTEGER NOT NULL,
    received_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX sms_order ON sms(order_id, id);

  CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id TEXT NOT NULL REFERENCES orders(id),
    response TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (account_id, key)
  ) STRICT;
  CREATE INDEX idempotency_created ON idempotency_keys(created_at);
  `,
  // 2: indexes for the hot paths: is this number free, and how many completed orders has an account.
  `
  CREATE INDEX orders_phone ON orders(phone, platform, status);
  CREATE INDEX orders_account_status ON orders(account_id, status);
  `,
  // 3: completed orders counted on the account, kept in the same transactions as the status
  // changes, so the tier at order time is one row read (the audit checks it against the orders).
  `
  ALTER TABLE accounts ADD COLUMN completed_orders INTEGER NOT NULL DEFAULT 0 CHECK (completed_orders >= 0);
  UPDATE accounts SET completed_orders = (SELECT count(*) FROM orders o WHERE o.account_id = accounts.id AND o.status = 'completed');
  `,
  // 4: the outbox of webhook events, their deliveries and every delivery attempt; secret rotation,
  // a disabled URL, and the low-balance threshold on the account.
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    msg_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX events_account ON events(account_id, id);

  CREATE TABLE deliveries (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id INTEGER NOT NULL REFERENCES events(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    url TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    created_at INTEGER NOT NULL,
    finished_at INTEGER
  ) STRICT;
  CREATE INDEX deliveries_pending ON deliveries(account_id, id) WHERE state = 'pending';
  CREATE INDEX deliveries_account ON deliveries(account_id, id);

  CREATE TABLE delivery_attempts (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    at INTEGER NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX delivery_attempts_account ON delivery_attempts(account_id, id);

  ALTER TABLE accounts ADD COLUMN webhook_previous_secret TEXT;
  ALTER TABLE accounts ADD COLUMN webhook_previous_until INTEGER;
  ALTER TABLE accounts ADD COLUMN webhook_disabled_at INTEGER;
  ALTER TABLE accounts ADD COLUMN webhook_disabled_reason TEXT;
  ALTER TABLE accounts ADD COLUMN low_balance_threshold INTEGER NOT NULL DEFAULT 1000000 CHECK (low_balance_threshold >= 0);
  ALTER TABLE accounts ADD COLUMN low_balance_notified INTEGER NOT NULL DEFAULT 0;
  `,
  // 5: prices the operator sets per platform and country (whole cents, so discounts stay exact),
  // and an index for the delivery-rate guard's look at one account, platform and country.
  `
  CREATE TABLE prices (
    platform TEXT NOT NULL,
    country TEXT NOT NULL,
    price INTEGER NOT NULL CHECK (price >= 0 AND price % 10000 = 0),
    PRIMARY KEY (platform, country)
  ) STRICT;
  CREATE INDEX orders_guard ON orders(account_id, platform, country, created_at);
  `,
  // 6: whether an order ever received an SMS, on the order itself, with a covering index, so the
  // delivery-rate guard reads its window from the index alone (it runs inside every order).
  `
  ALTER TABLE orders ADD COLUMN delivered INTEGER NOT NULL DEFAULT 0;
  UPDATE orders SET delivered = 1 WHERE EXISTS (SELECT 1 FROM sms WHERE sms.order_id = orders.id AND accepted = 1);
  DROP INDEX orders_guard;
  CREATE INDEX orders_guard ON orders(account_id, platform, country, created_at, status, delivered);
  `,
  // 7: real sources (issue 7). The operator's sources and their secrets; numbers of their own
  // gateways; every inbound message, matched or not; upstream activations behind orders; errors
  // per source; token buckets shared by every process that calls an upstream; cached price lists.
  `
  CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    secret TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    cost INTEGER NOT NULL DEFAULT 0 CHECK (cost >= 0),
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE pool_numbers (
    phone TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    country TEXT NOT NULL,
    platforms TEXT NOT NULL DEFAULT '*',
    device TEXT,
    sim INTEGER,
    added_at INTEGER NOT NULL
  ) STRICT;
  CREATE INDEX pool_source ON pool_numbers(source, country);
  CREATE UNIQUE INDEX pool_device ON pool_numbers(source, device, sim) WHERE device IS NOT NULL;

  CREATE TABLE inbox (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    message_id TEXT,
    to_phone TEXT,
    sender TEXT NOT NULL,
    device TEXT,
    sim INTEGER,
    text TEXT NOT NULL,
    received_at INTEGER NOT NULL,
    stored_at INTEGER NOT NULL,
    order_id TEXT
  ) STRICT;
  CREATE UNIQUE INDEX inbox_message ON inbox(source, message_id) WHERE message_id IS NOT NULL;
  CREATE INDEX inbox_unmatched ON inbox(id) WHERE order_id IS NULL;
  CREATE INDEX inbox_order ON inbox(order_id) WHERE order_id IS NOT NULL;

  CREATE TABLE upstream_activations (
    order_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    cost INTEGER NOT NULL,
    status TEXT NOT NULL,
    awaiting TEXT,
    updated_at INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE source_errors (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    at INTEGER NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
  ) STRICT;
  CREATE INDEX source_errors_at ON source_errors(source, at);

  CREATE TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tokens REAL NOT NULL,
    updated_at INTEGER NOT NULL,
    blocked_until INTEGER NOT NULL DEFAULT 0
  ) STRICT;

  CREATE TABLE source_cache (
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    fetched_at INTEGER NOT NULL,
    PRIMARY KEY (source, key)
  ) STRICT;

  -- The success floor reads a source's last ended orders on every order: an index of ended ones only.
  CREATE INDEX orders_source_ended ON orders(source, created_at) WHERE status != 'active';
  CREATE INDEX orders_source_guard ON orders(source, platform, country, created_at);
  -- An inbound SMS for a retried order must have come after the retry.
  ALTER TABLE orders ADD COLUMN retried_at INTEGER;
  `,
  // 8: the redesign's rows. The embedded sandbox decided once by a row (so processes started
  // together share one account); idempotency keys reserved before an upstream purchase (nullable
  // order, a lease and its holder's token); upstream numbers bought that no order sold; an
  // activation's phase in our words; when an attempt scheduled the next; why a message stayed unmatched.
  `
  CREATE TABLE sandbox (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    api_key TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id)
  ) STRICT;

  CREATE TABLE idempotency_keys_v8 (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id TEXT REFERENCES orders(id),
    response TEXT,
    created_at INTEGER NOT NULL,
    lease_until INTEGER,
    token TEXT,
    PRIMARY KEY (account_id, key),
    CHECK ((order_id IS NULL) = (response IS NULL))
  ) STRICT;
  INSERT INTO idempotency_keys_v8 (account_id, key, request_hash, order_id, response, created_at)
    SELECT account_id, key, request_hash, order_id, response, created_at FROM idempotency_keys;
  DROP TABLE idempotency_keys;
  ALTER TABLE idempotency_keys_v8 RENAME TO idempotency_keys;
  CREATE INDEX idempotency_created ON idempotency_keys(created_at);

  CREATE TABLE upstream_orphans (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    source TEXT NOT NULL,
    platform TEXT NOT NULL,
    country TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    cost INTEGER NOT NULL,
    at INTEGER NOT NULL,
    reason TEXT NOT NULL
  ) STRICT;
  CREATE INDEX upstream_orphans_window ON upstream_orphans(source, platform, country, at);

  ALTER TABLE upstream_activations ADD COLUMN phase TEXT CHECK (phase IN ('first', 'retry'));
  UPDATE upstream_activations SET phase = CASE awaiting WHEN 'smsReceived' THEN 'first' WHEN 'retryReceived' THEN 'retry' END;
  ALTER TABLE upstream_activations DROP COLUMN awaiting;

  ALTER TABLE delivery_attempts ADD COLUMN next_attempt_at INTEGER;
  ALTER TABLE inbox ADD COLUMN note TEXT;
  `,
  // 9: the numeric alias of an order, the activation id of the sms-activate protocol (issue 15).
  // A column of its own, not the rowid, which VACUUM may renumber; orders already there keep
  // their rowid as theirs, new ones take the next number at insert.
  `
  ALTER TABLE orders ADD COLUMN num INTEGER;
  UPDATE orders SET num = rowid;
  CREATE UNIQUE INDEX orders_num ON orders(num);

  -- Telling a provider an activation is over (setStatus 8 or 6 in that family): a due time, tried
  -- again while it is refused; released_at once done or given up. Activations from before need none.
  ALTER TABLE upstream_activations ADD COLUMN release_at INTEGER;
  ALTER TABLE upstream_activations ADD COLUMN release_attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE upstream_activations ADD COLUMN released_at INTEGER;
  UPDATE upstream_activations SET released_at = updated_at;
  CREATE INDEX upstream_activations_unreleased ON upstream_activations(release_at) WHERE released_at IS NULL;
  `,
  // 10: crypto deposits (issue 16). An address per account and coin at a receive index taken from
  // a per-coin counter (never two accounts on one index), watched through its own due time and
  // lease; each paid output once by its unique (coin, txid, vout).
  `
  CREATE TABLE deposit_counters (
    coin TEXT PRIMARY KEY,
    next_index INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE deposit_addresses (
    coin TEXT NOT NULL,
    idx INTEGER NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    address TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL,
    next_check_at INTEGER,
    lease_until INTEGER,
    checked_at INTEGER,
    watch_until INTEGER NOT NULL,
    active_until INTEGER NOT NULL,
    PRIMARY KEY (coin, idx),
    UNIQUE (account_id, coin)
  ) STRICT;
  CREATE INDEX deposit_addresses_due ON deposit_addresses(coin, next_check_at) WHERE next_check_at IS NOT NULL;

  CREATE TABLE deposit_watchers (
    coin TEXT PRIMARY KEY,
    paused_until INTEGER NOT NULL,
    failures INTEGER NOT NULL
  ) STRICT;

  CREATE TABLE deposits (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    coin TEXT NOT NULL,
    address TEXT NOT NULL,
    txid TEXT NOT NULL,
    vout INTEGER NOT NULL,
    sats INTEGER NOT NULL,
    confirmations INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'credited', 'below_minimum')),
    usd INTEGER,
    rate INTEGER,
    seen_at INTEGER NOT NULL,
    settled_at INTEGER,
    dropped_at INTEGER,
    UNIQUE (coin, txid, vout)
  ) STRICT;
  CREATE INDEX deposits_account ON deposits(account_id, id);
  `,
];
