import type { Usage, UsageDay, UsagePlatform } from '../broker.js';
import { toUsd } from '../money.js';
import type { OrderFact } from '../orders/port.js';

const DAY_MS = 86_400_000;

/** Per-platform and per-day (UTC) aggregates of an account's orders; every day of the window appears, oldest first. */
export function summariseUsage(facts: readonly OrderFact[], days: number, firstDay: number): Usage {
  const spentOf = (f: OrderFact): number => (f.refunded ? 0 : f.price);
  const byPlatform = new Map<string, { orders: number; completed: number; ended: number; delivered: number; spent: number }>();
  const daily: UsageDay[] = Array.from({ length: days }, (_, i) => ({
    date: new Date(firstDay + i * DAY_MS).toISOString().slice(0, 10),
    orders: 0,
    completed: 0,
    spent: 0,
  }));
  const dailySpent = new Array<number>(days).fill(0);

  for (const f of facts) {
    const p = byPlatform.get(f.platform) ?? { orders: 0, completed: 0, ended: 0, delivered: 0, spent: 0 };
    p.orders++;
    if (f.status === 'completed') p.completed++;
    if (f.status !== 'active') {
      p.ended++;
      if (f.firstSmsAt !== null) p.delivered++;
    }
    p.spent += spentOf(f);
    byPlatform.set(f.platform, p);

    const day = Math.floor((f.createdAt - firstDay) / DAY_MS);
    const slot = daily[day];
    if (!slot) continue;
    slot.orders++;
    if (f.status === 'completed') slot.completed++;
    dailySpent[day]! += spentOf(f);
  }
  daily.forEach((d, i) => (d.spent = toUsd(dailySpent[i]!)));

  const platforms: UsagePlatform[] = [...byPlatform.entries()]
    .map(([platform, p]) => ({
      platform,
      orders: p.orders,
      completed: p.completed,
      spent: toUsd(p.spent),
      success_rate: p.ended ? Math.round((p.delivered / p.ended) * 1000) / 1000 : null,
    }))
    .sort((a, b) => b.orders - a.orders || a.platform.localeCompare(b.platform));
  return { days, platforms, daily };
}

/** The middle value (the mean of the two middle ones for an even count); the list must not be empty. */
export function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
