/**
 * tn as a library: the broker core, the embedded broker, the code extractor and the catalogue.
 * Nothing here prints or exits.
 */
export { extractCode, type ExtractedCode } from './core/extract.js';
export { parseAgentQuery } from './core/agent.js';
export { BrokerCore, VERIFY_TIMEOUT, BATCH_MAX, type CoreOptions, type OrderEvent } from './core/service.js';
export { EmbeddedBroker, openEmbeddedBroker, openCoreOnFile, SANDBOX_CREDIT } from './client/embedded.js';
export { openSqliteStore, SqliteStore } from './store/sqlite.js';
export { Simulator, type SimulatorOptions } from './providers/simulator.js';
export type { NumberSource, SimulatedSms } from './providers/types.js';
export { PLATFORMS, findPlatform, type Platform } from './core/catalogue/catalog.js';
export { COUNTRIES, findCountry, countryName } from './core/catalogue/countries.js';
export { TIERS, tierFor, nextTier, type Tier } from './core/accounts/tiers.js';
export { TnError, ERRORS, EXIT, exitCodeFor, type ErrorCode, type ErrorBody } from './core/errors.js';
export { sign as signWebhook, webhookHeaders } from './core/webhooks/signing.js';
export { formatUsd, parseUsd, toUsd, MICROS_PER_USD, type Micros } from './core/money.js';
export { systemClock, type Clock } from './core/clock.js';
export type { Order, OrderStatus } from './core/orders/order.js';
export type { Store } from './core/ports.js';
export type * from './core/broker.js';
