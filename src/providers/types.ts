/**
 * Where numbers and SMS come from. The simulator is one; later, an operator's own phones, SIM
 * gateways and upstream providers. The broker asks a source for a number, records when its SMS is
 * due, and asks it to compose that SMS when the time comes (in whichever process is alive then).
 */
export interface NumberSource {
  readonly id: string;
  /** Countries (lower-case ISO 3166-1 alpha-2) where this source has numbers for the platform. */
  countries(platform: string): readonly string[];
  /** How many orders of a platform in a country it can serve at once. */
  capacity(platform: string, country: string): number;
  /** A free number in E.164 form, asking `isTaken` about candidates; null if every number is held. */
  pickPhone(platform: string, country: string, isTaken: (phone: string) => boolean): string | null;
  /** Milliseconds until the next SMS after an order or a retry; null when none will come. */
  planDelivery(kind: 'order' | 'retry'): number | null;
  /** The SMS that arrives for a scheduled delivery. */
  composeSms(platform: string): SimulatedSms;
}

export interface SimulatedSms {
  sender: string;
  text: string;
  /** The code the text carries, known to the simulator; the broker still reads it out of the text. */
  code: string;
}
