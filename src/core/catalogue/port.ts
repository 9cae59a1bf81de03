import type { Micros } from '../money.js';

export interface PriceOverride {
  platform: string;
  country: string;
  price: Micros;
}

/** Prices the operator set per platform and country (`*`: every country); others come from the catalogue. */
export interface PricesRepo {
  all(): Promise<PriceOverride[]>;
  set(platform: string, country: string, price: Micros | null): Promise<void>;
}
