import { PLATFORMS, type Platform } from '../catalogue/catalog.js';
import { extractCode } from '../extract.js';
import type { OrderRecord } from '../orders/order.js';

/**
 * Which active order on a number an inbound SMS is for. Only an order whose platform's code can
 * be read from the text, and (when the sender is a platform's name, as most senders are) only an
 * order of that platform, of the same company, or one the text names: a Telegram code must not
 * complete an Instagram order, and a carrier's "welcome" text completes nothing. Among those, the
 * one whose platform the text or the sender names (the text counts more); among equals, the newest.
 */
export function chooseOrder(candidates: readonly OrderRecord[], sender: string, text: string): OrderRecord | null {
  const from = words(sender);
  const body = words(text);
  const senderNames = new Set(PLATFORMS.filter((p) => namesOf(p).some((n) => from.includes(n))).flatMap((p) => SAME_SENDERS[p.id] ?? [p.id]));
  let best: OrderRecord | null = null;
  let bestScore = -1;
  // Newest first, so that a tie keeps the newest.
  const newestFirst = [...candidates].sort((a, b) => b.createdAt - a.createdAt);
  for (const order of newestFirst) {
    const platform = PLATFORMS.find((p) => p.id === order.platform);
    const names = platform ? namesOf(platform) : [];
    const inText = names.some((n) => body.includes(n));
    // A sender naming another platform rules an order out, unless the text names the order's own
    // (Meta sends Instagram codes as "Facebook").
    if (senderNames.size > 0 && !senderNames.has(order.platform) && !inText) continue;
    if (extractCode(text, { platform: order.platform }) === null) continue;
    // The text naming the platform outranks the sender (Meta sends for several of its own).
    const score = (inText ? 2 : 0) + (names.some((n) => from.includes(n)) ? 1 : 0);
    if (score > bestScore) {
      best = order;
      bestScore = score;
    }
  }
  return best;
}

/** Platforms whose codes come under one another's sender names. */
const META = ['facebook', 'instagram', 'whatsapp'];
const SAME_SENDERS: Record<string, readonly string[]> = { facebook: META, instagram: META, whatsapp: META };

/** Text as ` word word `, folded, so that names match whole words only. */
const words = (s: string): string => ` ${s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, ' ').trim()} `;

/** A platform's id, name and aliases as whole words; two-letter aliases (`go`, `li`) are too common in text to count. */
function namesOf(platform: Platform): string[] {
  return [platform.id, platform.name, ...platform.aliases].map((n) => words(n)).filter((n) => n.trim().length >= 3);
}
