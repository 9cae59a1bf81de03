/** An event of the account's log (the outbox): `payload` is the exact JSON body a webhook delivers. */
export interface OutboxEvent {
  id: number;
  msgId: string;
  accountId: string;
  type: string;
  payload: string;
  createdAt: number;
}

/** An event just appended, with the number of webhook deliveries it queued (0 or 1). */
export interface AppendedEvent extends OutboxEvent {
  deliveries: number;
}

/** The event log: written in the same unit of work as the change it reports. */
export interface EventsRepo {
  /** Appends an event, and its delivery when the account has a working webhook URL. */
  append(event: Omit<OutboxEvent, 'id'>): Promise<AppendedEvent>;
  after(accountId: string, afterId: number, limit: number): Promise<OutboxEvent[]>;
  /** The log position of an account's event by its webhook-id; null if unknown. */
  position(accountId: string, msgId: string): Promise<number | null>;
  /** The position of the account's newest event; 0 when it has none. */
  latest(accountId: string): Promise<number>;
}
