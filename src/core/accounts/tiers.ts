/** Loyalty tiers, counted on completed orders and applied at order time (API.md §2). */
export interface Tier {
  readonly name: 'Standard' | 'Silver' | 'Gold' | 'VIP';
  readonly minCompleted: number;
  readonly discountPercent: number;
}

export const TIERS: readonly Tier[] = [
  { name: 'Standard', minCompleted: 0, discountPercent: 0 },
  { name: 'Silver', minCompleted: 20, discountPercent: 5 },
  { name: 'Gold', minCompleted: 50, discountPercent: 10 },
  { name: 'VIP', minCompleted: 100, discountPercent: 15 },
];

export function tierFor(completedOrders: number): Tier {
  let tier = TIERS[0]!;
  for (const t of TIERS) if (completedOrders >= t.minCompleted) tier = t;
  return tier;
}

export function nextTier(completedOrders: number): { tier: Tier['name']; orders_needed: number } | null {
  const next = TIERS.find((t) => t.minCompleted > completedOrders);
  return next ? { tier: next.name, orders_needed: next.minCompleted - completedOrders } : null;
}
