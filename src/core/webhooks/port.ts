import type { Micros } from '../money.js';
import type { OutboxEvent } from '../events/port.js';

export interface WebhookSettings {
  url: string | null;
  secret: string;
  previousSecret: string | null;
  previousUntil: number | null;
  disabledAt: number | null;
  disabledReason: string | null;
  lowBalanceThreshold: Micros;
}

export interface DueDelivery {
  id: number;
  attempts: number;
  url: string;
  event: OutboxEvent;
}

export interface DeliveryAttempt {
  at: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
}

export interface AttemptLog {
  webhookId: string;
  type: string;
  at: number;
  statusCode: number | null;
  error: string | null;
  durationMs: number;
  attempt: number;
  /** When this attempt scheduled the next one; null when it was the last. */
  nextAttemptAt: number | null;
  state: 'pending' | 'delivered' | 'failed';
}

export interface WebhooksRepo {
  settings(accountId: string): Promise<WebhookSettings | null>;
  setUrl(accountId: string, url: string | null): Promise<void>;
  rotateSecret(accountId: string, secret: string, previousUntil: number): Promise<void>;
  disable(accountId: string, at: number, reason: string): Promise<void>;
  /** Pending deliveries of the account: to a new URL, due at `at`; or (url null) given up. */
  redirectPending(accountId: string, url: string | null, at: number): Promise<void>;
  /**
   * For each account, its oldest pending delivery if it is due (deliveries of one account go in
   * order), claimed: each is leased (`next_attempt_at` moved to `leaseUntil`) so no other process
   * sends it meanwhile.
   */
  claimDue(now: number, limit: number, leaseUntil: number): Promise<DueDelivery[]>;
  /** Moves a claimed, still pending delivery's lease from `leaseUntil` to `nextLease`; nothing if it changed meanwhile. */
  extendClaim(deliveryId: number, leaseUntil: number, nextLease: number): Promise<void>;
  nextDueAt(): Promise<number | null>;
  delivery(deliveryId: number): Promise<{ accountId: string; state: string } | null>;
  addAttempt(deliveryId: number, accountId: string, attempt: DeliveryAttempt, nextAttemptAt: number | null): Promise<void>;
  finish(deliveryId: number, state: 'pending' | 'delivered' | 'failed', at: number, nextAttemptAt: number | null): Promise<void>;
  recentAttempts(accountId: string, limit: number): Promise<AttemptLog[]>;
}
