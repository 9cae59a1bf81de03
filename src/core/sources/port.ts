import type { Micros } from '../money.js';
import type { SourceKind } from './kinds.js';

export interface SourceRecord {
  name: string;
  kind: SourceKind;
  /** The auth token, signing key or bearer token a gateway proves itself with; the API key of an upstream. */
  secret: string | null;
  settings: SourceSettings;
  /** What one number costs the operator, for routing. */
  cost: Micros;
  enabled: boolean;
  createdAt: number;
}

export interface SourceSettings {
  baseUrl?: string;
  /** Upstream markup: a percentage of its price, or a fixed amount in micro-USD. */
  markupPercent?: number;
  markupMicros?: Micros;
  pollMs?: number;
  /** A pool number's rest after an order, per platform (own gateways). */
  cooldownMs?: number;
  /** The origin gateways call, as given to `add`, for the inbound URL shown later. */
  publicUrl?: string;
}

export interface PoolNumber {
  phone: string;
  source: string;
  country: string;
  /** Platform ids, or '*' for all. */
  platforms: string[] | '*';
  device: string | null;
  sim: number | null;
  addedAt: number;
}

export interface InboxEntry {
  id: number;
  source: string;
  messageId: string | null;
  to: string | null;
  from: string;
  device: string | null;
  sim: number | null;
  text: string;
  receivedAt: number;
  orderId: string | null;
  /** Why a message was kept without being matched (an implausible time, say); null otherwise. */
  note?: string | null;
}

export interface ActivationRecord {
  orderId: string;
  source: string;
  activationId: string;
  cost: Micros;
  status: string;
  /** Whether the activation waits for its first SMS or for the one a retry asked for. */
  phase: 'first' | 'retry' | null;
}

export interface SourceStats {
  source: string;
  active: number;
  ended: number;
  delivered: number;
  medianDeliveryMs: number | null;
  errorsLastHour: number;
  lastError: { at: number; code: string; message: string } | null;
  /** Upstream numbers bought that no order sold (each lapses upstream). */
  orphaned: number;
}

export interface SourcesRepo {
  list(): Promise<SourceRecord[]>;
  exists(name: string): Promise<boolean>;
  insert(source: SourceRecord): Promise<void>;
  setEnabled(name: string, enabled: boolean): Promise<boolean>;
  remove(name: string): Promise<boolean>;
  activeOrders(name: string): Promise<number>;
  /** The last `limit` ended orders of a source: how many, how many got an SMS. */
  record(source: string, limit: number): Promise<{ ended: number; delivered: number }>;
  stats(now: number): Promise<Omit<SourceStats, 'lastError' | 'errorsLastHour' | 'orphaned'>[]>;
  addError(source: string, code: string, message: string, at: number, keepSince: number): Promise<void>;
  errorsSince(since: number): Promise<Map<string, number>>;
  lastError(source: string): Promise<{ at: number; code: string; message: string } | null>;
}

export interface PoolRepo {
  list(): Promise<PoolNumber[]>;
  has(phone: string): Promise<boolean>;
  deviceTaken(source: string, device: string, sim: number | null): Promise<boolean>;
  insert(entry: PoolNumber): Promise<void>;
  remove(phone: string): Promise<boolean>;
  removeOfSource(source: string): Promise<void>;
  activeOrdersOn(phone: string): Promise<number>;
  /** Numbers held per platform: `releasedAt` null while an order holds it, else when its last order let go, if after `since`. */
  held(since: number): Promise<{ phone: string; platform: string; releasedAt: number | null }[]>;
  /** A free number of the source for the platform and country, not cooling down; the one used longest ago. */
  free(source: string, platform: string, country: string, now: number, cooldownMs: number): Promise<string | null>;
  /** The numbers of a gateway device: its SIM slots. */
  ofDevice(source: string, device: string): Promise<{ phone: string; sim: number | null }[]>;
}

export interface InboxRepo {
  seen(source: string, messageId: string): Promise<boolean>;
  insert(entry: Omit<InboxEntry, 'id' | 'orderId'> & { storedAt: number }): Promise<number>;
  link(id: number, orderId: string): Promise<void>;
  list(filter: { unmatchedOnly: boolean; limit: number }): Promise<InboxEntry[]>;
}

/** An activation whose order is over, due to be released upstream (its order cancelled or expired: `cancel`; completed and past its retry window: `finish`). */
export interface DueRelease {
  orderId: string;
  source: string;
  activationId: string;
  outcome: 'cancel' | 'finish';
  /** The due time as read (null: as soon as the order ended), for the conditional claim. */
  releaseAt: number | null;
  attempts: number;
  orderCreatedAt: number;
}

export interface ActivationsRepo {
  insert(activation: ActivationRecord, at: number): Promise<void>;
  /** Activations due to be released upstream at `now`, oldest orders first. */
  dueReleases(now: number, limit: number): Promise<DueRelease[]>;
  /** Moves a release's due time if it is still `releaseAt` (counting an attempt when asked): false when another process took it. */
  rescheduleRelease(orderId: string, releaseAt: number | null, nextAt: number, attempt: boolean): Promise<boolean>;
  /** The release is done (or given up): `status` is the provider's last word, for the operator (null keeps the one there). */
  released(orderId: string, status: string | null, at: number): Promise<void>;
  get(orderId: string): Promise<ActivationRecord | null>;
  update(orderId: string, status: string, phase: ActivationRecord['phase'], at: number): Promise<void>;
  /** An upstream number bought that no order sold: it counts against the source's delivery rule. */
  addOrphan(orphan: { source: string; platform: string; country: string; activationId: string; cost: Micros; at: number; reason: string }): Promise<void>;
  orphansSince(source: string, platform: string, country: string, since: number): Promise<number>;
  orphanCounts(since: number): Promise<Map<string, number>>;
}

/** Token buckets shared by every process on the database, and blocks after an upstream's 429. */
export interface BucketsRepo {
  get(key: string): Promise<{ tokens: number; updatedAt: number; blockedUntil: number } | null>;
  put(key: string, tokens: number, updatedAt: number): Promise<void>;
  block(key: string, until: number): Promise<void>;
}

/** Small values an upstream gave (price lists) or the broker decided (pauses), shared by processes. */
export interface CacheRepo {
  get(source: string, key: string): Promise<{ value: string; fetchedAt: number } | null>;
  put(source: string, key: string, value: string, at: number): Promise<void>;
}
