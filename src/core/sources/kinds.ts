/**
 * The kinds of source an operator can add, and what each one is: the one table the registry, the
 * inbound endpoint and the CLI read. Kept apart from the registry so the CLI can name kinds
 * without loading it.
 */
export const SOURCE_KIND_TABLE = {
  simulator: { role: 'simulator', secretFlag: null },
  twilio: { role: 'gateway', secretFlag: '--auth-token' },
  'android-gateway': { role: 'gateway', secretFlag: '--signing-key' },
  httpsms: { role: 'gateway', secretFlag: '--signing-key' },
  jasmin: { role: 'gateway', secretFlag: '--token' },
  /** Its token is made by the broker when none is given. */
  generic: { role: 'gateway', secretFlag: '--token' },
  tempnumber: { role: 'upstream', secretFlag: '--api-key' },
  /** Any provider of the sms-activate family (HeroSMS, Grizzly SMS, SMSBower, …): its handler URL has no default. */
  'sms-activate': { role: 'upstream', secretFlag: '--api-key', needsBaseUrl: true },
} as const satisfies Record<string, { role: 'simulator' | 'gateway' | 'upstream'; secretFlag: string | null; needsBaseUrl?: boolean }>;

export type SourceKind = keyof typeof SOURCE_KIND_TABLE;
export type SourceRole = (typeof SOURCE_KIND_TABLE)[SourceKind]['role'];
export const SOURCE_KINDS = Object.keys(SOURCE_KIND_TABLE) as SourceKind[];

type KindsOf<R extends SourceRole> = { [K in SourceKind]: (typeof SOURCE_KIND_TABLE)[K]['role'] extends R ? K : never }[SourceKind];
/** The operator's own gateways: numbers in a pool, SMS posted to the inbound endpoint. */
export type GatewayKind = KindsOf<'gateway'>;
/** Providers numbers are bought from, per order, their SMS read by polling. */
export type UpstreamKind = KindsOf<'upstream'>;

export const isSourceKind = (kind: string): kind is SourceKind => Object.hasOwn(SOURCE_KIND_TABLE, kind);
export const isGatewayKind = (kind: SourceKind): kind is GatewayKind => SOURCE_KIND_TABLE[kind].role === 'gateway';
export const isUpstreamKind = (kind: SourceKind): kind is UpstreamKind => SOURCE_KIND_TABLE[kind].role === 'upstream';
export const GATEWAY_KINDS = SOURCE_KINDS.filter(isGatewayKind);
