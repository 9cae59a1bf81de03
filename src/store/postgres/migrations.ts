/**
 * PostgreSQL's numbered migrations, tracked in `tn_schema`. The first is the whole schema as the
 * SQLite migrations 1–8 leave it (same tables, columns and constraints; BIGINT for money and
 * times, identities for the counters). Never edit one that has shipped: add the next, and mirror
 * every new SQLite migration here.
 */
export const PG_MIGRATIONS: readonly string[] = [
  `
  CREATE TABLE accounts (
    id TEXT PRIMARY KEY,
    key_hash TEXT NOT NULL UNIQUE,
    balance BIGINT NOT NULL CHECK (balance >= 0),
    created_at BIGINT NOT NULL,
    sandbox INTEGER NOT NULL DEFAULT 0,
    webhook_secret TEXT NOT NULL,
    webhook_url TEXT,
    completed_orders INTEGER NOT NULL DEFAULT 0 CHECK (completed_orders >= 0),
    webhook_previous_secret TEXT,
    webhook_previous_until BIGINT,
    webhook_disabled_at BIGINT,
    webhook_disabled_reason TEXT,
    low_balance_threshold BIGINT NOT NULL DEFAULT 1000000 CHECK (low_balance_threshold >= 0),
    low_balance_notified INTEGER NOT NULL DEFAULT 0
  );

  CREATE TABLE orders (
    id TEXT PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    platform TEXT NOT NULL,
    country TEXT NOT NULL,
    phone TEXT NOT NULL,
    source TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price >= 0),
    status TEXT NOT NULL CHECK (status IN ('active', 'completed', 'cancelled', 'expired', 'failed')),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    completed_at BIGINT,
    ended_at BIGINT,
    refunded INTEGER NOT NULL DEFAULT 0,
    sms_due_at BIGINT,
    delivered INTEGER NOT NULL DEFAULT 0,
    retried_at BIGINT
  );
  CREATE INDEX orders_account_created ON orders(account_id, created_at DESC);
  CREATE INDEX orders_created ON orders(created_at);
  CREATE INDEX orders_expiry ON orders(expires_at) WHERE status = 'active';
  CREATE INDEX orders_sms_due ON orders(sms_due_at) WHERE status = 'active' AND sms_due_at IS NOT NULL;
  CREATE INDEX orders_number ON orders(platform, country, status);
  CREATE UNIQUE INDEX orders_one_active_per_number ON orders(phone, platform) WHERE status = 'active';
  CREATE INDEX orders_phone ON orders(phone, platform, status);
  CREATE INDEX orders_account_status ON orders(account_id, status);
  CREATE INDEX orders_guard ON orders(account_id, platform, country, created_at, status, delivered);
  CREATE INDEX orders_source_ended ON orders(source, created_at) WHERE status != 'active';
  CREATE INDEX orders_source_guard ON orders(source, platform, country, created_at);

  CREATE TABLE ledger (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    kind TEXT NOT NULL CHECK (kind IN ('deposit', 'order_debit', 'refund', 'adjustment')),
    amount BIGINT NOT NULL,
    order_id TEXT REFERENCES orders(id),
    note TEXT NOT NULL DEFAULT '',
    created_at BIGINT NOT NULL,
    CHECK ((kind IN ('order_debit', 'refund')) = (order_id IS NOT NULL))
  );
  CREATE INDEX ledger_account ON ledger(account_id);
  CREATE UNIQUE INDEX ledger_one_debit ON ledger(order_id) WHERE kind = 'order_debit';
  CREATE UNIQUE INDEX ledger_one_refund ON ledger(order_id) WHERE kind = 'refund';

  CREATE TABLE sms (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    order_id TEXT NOT NULL REFERENCES orders(id),
    sender TEXT NOT NULL,
    text TEXT NOT NULL,
    code TEXT,
    accepted INTEGER NOT NULL,
    received_at BIGINT NOT NULL
  );
  CREATE INDEX sms_order ON sms(order_id, id);

  CREATE TABLE idempotency_keys (
    account_id TEXT NOT NULL REFERENCES accounts(id),
    key TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    order_id TEXT REFERENCES orders(id),
    response TEXT,
    created_at BIGINT NOT NULL,
    lease_until BIGINT,
    token TEXT,
    PRIMARY KEY (account_id, key),
    CHECK ((order_id IS NULL) = (response IS NULL))
  );
  CREATE INDEX idempotency_created ON idempotency_keys(created_at);

  CREATE TABLE events (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    msg_id TEXT NOT NULL UNIQUE,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    type TEXT NOT NULL,
    payload TEXT NOT NULL,
    created_at BIGINT NOT NULL
  );
  CREATE INDEX events_account ON events(account_id, id);

  CREATE TABLE deliveries (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    event_id BIGINT NOT NULL REFERENCES events(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    url TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT,
    created_at BIGINT NOT NULL,
    finished_at BIGINT
  );
  CREATE INDEX deliveries_pending ON deliveries(account_id, id) WHERE state = 'pending';
  CREATE INDEX deliveries_account ON deliveries(account_id, id);

  CREATE TABLE delivery_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    delivery_id BIGINT NOT NULL REFERENCES deliveries(id),
    account_id TEXT NOT NULL REFERENCES accounts(id),
    at BIGINT NOT NULL,
    status_code INTEGER,
    error TEXT,
    duration_ms INTEGER NOT NULL,
    next_attempt_at BIGINT
  );
  CREATE INDEX delivery_attempts_account ON delivery_attempts(account_id, id);

  CREATE TABLE prices (
    platform TEXT NOT NULL,
    country TEXT NOT NULL,
    price BIGINT NOT NULL CHECK (price >= 0 AND price % 10000 = 0),
    PRIMARY KEY (platform, country)
  );

  CREATE TABLE sources (
    name TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    secret TEXT,
    settings TEXT NOT NULL DEFAULT '{}',
    cost BIGINT NOT NULL DEFAULT 0 CHECK (cost >= 0),
    enabled INTEGER NOT NULL DEFAULT 1,
    created_at BIGINT NOT NULL
  );

  CREATE TABLE pool_numbers (
    phone TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    country TEXT NOT NULL,
    platforms TEXT NOT NULL DEFAULT '*',
    device TEXT,
    sim INTEGER,
    added_at BIGINT NOT NULL
  );
  CREATE INDEX pool_source ON pool_numbers(source, country);
  CREATE UNIQUE INDEX pool_device ON pool_numbers(source, device, sim) WHERE device IS NOT NULL;

  CREATE TABLE inbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    message_id TEXT,
    to_phone TEXT,
    sender TEXT NOT NULL,
    device TEXT,
    sim INTEGER,
    text TEXT NOT NULL,
    received_at BIGINT NOT NULL,
    stored_at BIGINT NOT NULL,
    order_id TEXT,
    note TEXT
  );
  CREATE UNIQUE INDEX inbox_message ON inbox(source, message_id) WHERE message_id IS NOT NULL;
  CREATE INDEX inbox_unmatched ON inbox(id) WHERE order_id IS NULL;
  CREATE INDEX inbox_order ON inbox(order_id) WHERE order_id IS NOT NULL;

  CREATE TABLE upstream_activations (
    order_id TEXT PRIMARY KEY,
    source TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    cost BIGINT NOT NULL,
    status TEXT NOT NULL,
    updated_at BIGINT NOT NULL,
    phase TEXT CHECK (phase IN ('first', 'retry'))
  );

  CREATE TABLE upstream_orphans (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    platform TEXT NOT NULL,
    country TEXT NOT NULL,
    activation_id TEXT NOT NULL,
    cost BIGINT NOT NULL,
    at BIGINT NOT NULL,
    reason TEXT NOT NULL
  );
  CREATE INDEX upstream_orphans_window ON upstream_orphans(source, platform, country, at);

  CREATE TABLE source_errors (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    source TEXT NOT NULL,
    at BIGINT NOT NULL,
    code TEXT NOT NULL,
    message TEXT NOT NULL
  );
  CREATE INDEX source_errors_at ON source_errors(source, at);

  CREATE TABLE rate_buckets (
    key TEXT PRIMARY KEY,
    tokens DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL,
    blocked_until BIGINT NOT NULL DEFAULT 0
  );

  CREATE TABLE source_cache (
    source TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    fetched_at BIGINT NOT NULL,
    PRIMARY KEY (source, key)
  );

  CREATE TABLE sandbox (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    api_key TEXT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id)
  );
  `,
  // 2 (SQLite's 9): the numeric alias of an order for the sms-activate protocol, and the due time
  // of telling an upstream of that family an activation is over.
  `
  ALTER TABLE orders ADD COLUMN num BIGINT;
  UPDATE orders o SET num = r.n FROM (SELECT id, row_number() OVER (ORDER BY created_at, id) AS n FROM orders) r WHERE o.id = r.id;
  CREATE UNIQUE INDEX orders_num ON orders(num);
  CREATE SEQUENCE orders_num_seq;
  SELECT setval('orders_num_seq', coalesce((SELECT max(num) FROM orders), 0) + 1, false);

  ALTER TABLE upstream_activations ADD COLUMN release_at BIGINT;
  ALTER TABLE upstream_activations ADD COLUMN release_attempts INTEGER NOT NULL DEFAULT 0;
  ALTER TABLE upstream_activations ADD COLUMN released_at BIGINT;
  UPDATE upstream_activations SET released_at = updated_at;
  CREATE INDEX upstream_activations_unreleased ON upstream_activations(release_at) WHERE released_at IS NULL;
  `,
  // 3 (SQLite's 10): crypto deposits (issue 16). An address per account and coin at a receive index taken from
  // a per-coin counter (never two accounts on one index), watched through its own due time and
  // lease; each paid output once by its unique (coin, txid, vout).
  `
  CREATE TABLE deposit_counters (
    coin TEXT PRIMARY KEY,
    next_index BIGINT NOT NULL
  );

  CREATE TABLE deposit_addresses (
    coin TEXT NOT NULL,
    idx BIGINT NOT NULL,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    address TEXT NOT NULL UNIQUE,
    created_at BIGINT NOT NULL,
    next_check_at BIGINT,
    lease_until BIGINT,
    checked_at BIGINT,
    watch_until BIGINT NOT NULL,
    active_until BIGINT NOT NULL,
    PRIMARY KEY (coin, idx),
    UNIQUE (account_id, coin)
  );
  CREATE INDEX deposit_addresses_due ON deposit_addresses(coin, next_check_at) WHERE next_check_at IS NOT NULL;

  CREATE TABLE deposit_watchers (
    coin TEXT PRIMARY KEY,
    paused_until BIGINT NOT NULL,
    failures INTEGER NOT NULL
  );

  CREATE TABLE deposits (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    account_id TEXT NOT NULL REFERENCES accounts(id),
    coin TEXT NOT NULL,
    address TEXT NOT NULL,
    txid TEXT NOT NULL,
    vout INTEGER NOT NULL,
    sats BIGINT NOT NULL,
    confirmations INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'credited', 'below_minimum')),
    usd BIGINT,
    rate BIGINT,
    seen_at BIGINT NOT NULL,
    settled_at BIGINT,
    dropped_at BIGINT,
    UNIQUE (coin, txid, vout)
  );
  CREATE INDEX deposits_account ON deposits(account_id, id);
  `,
];
