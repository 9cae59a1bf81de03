import type { SourceKind } from './ports.js';

/** The kinds of source an operator can add; kept apart from the registry so the CLI can name them without loading it. */
export const SOURCE_KINDS: readonly SourceKind[] = ['simulator', 'twilio', 'android-gateway', 'httpsms', 'jasmin', 'generic', 'tempnumber'];
/** The operator's own gateways: numbers in a pool, SMS posted to the inbound endpoint. */
export type GatewayKind = Exclude<SourceKind, 'simulator' | 'tempnumber'>;
/** How long a pool number rests after an order for a platform, before it serves that platform again. */
export const DEFAULT_POOL_COOLDOWN_MS = 300_000;
export const isGatewayKind = (kind: SourceKind): kind is GatewayKind => kind !== 'simulator' && kind !== 'tempnumber';
