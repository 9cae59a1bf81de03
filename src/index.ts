/**
 * tn as a library: the HTTP client (also alone as `tn/client`), the broker core, the embedded broker, the code extractor and the catalogue.
 * Nothing here prints or exits.
 */
export { extractCode, type ExtractedCode } from './core/extract.js';
export { parseAgentQuery } from './core/agent/parse.js';
export { BrokerCore, type CoreOptions } from './core/broker-core.js';
export type { OrderEvent } from './core/context.js';
export { VERIFY_TIMEOUT, BATCH_MAX } from './core/limits.js';
export { createClient, RemoteBroker, followEvents, type ClientOptions, type RemoteOptions, type Transport } from './client/index.js';
export { EmbeddedBroker, openEmbeddedBroker, openCoreOnFile, SANDBOX_CREDIT } from './client/embedded.js';
export { openSqlite, openSqlite as openSqliteStore, SqliteDatabase, SqliteDatabase as SqliteStore } from './store/sqlite/engine.js';
export { Simulator, type SimulatorOptions } from './providers/simulator.js';
export type { NumberSource, SimulatedSms } from './core/sources/providers.js';
export { PLATFORMS, findPlatform, type Platform } from './core/catalogue/catalog.js';
export { COUNTRIES, findCountry, countryName } from './core/catalogue/countries.js';
export { TIERS, tierFor, nextTier, type Tier } from './core/accounts/tiers.js';
export { TnError, ERRORS, EXIT, exitCodeFor, type ErrorCode, type ErrorBody } from './core/errors.js';
export { sign as signWebhook, webhookHeaders } from './core/webhooks/signing.js';
export { formatUsd, parseUsd, toUsd, MICROS_PER_USD, type Micros } from './core/money.js';
export { systemClock, type Clock } from './core/clock.js';
export type { Order, OrderStatus } from './core/orders/order.js';
export type { Database, Database as Store, Repositories, Tx } from './core/database.js';
export type * from './core/broker.js';
