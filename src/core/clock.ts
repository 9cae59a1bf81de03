/** Time and chance are injected so that tests can run expiry, retry windows and simulator choices deterministically. */
export interface Clock {
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A uniform number in [0, 1). */
export type Random = () => number;

export const randomInt = (random: Random, min: number, maxInclusive: number): number =>
  min + Math.floor(random() * (maxInclusive - min + 1));

export const pick = <T>(random: Random, items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
