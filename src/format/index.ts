/** How amounts and rates read for people, the same in the CLI's output and the terminal app. */
import { formatUsd, fromUsd } from '../core/money.js';

/** A USD amount from the API's JSON as people read it: `$0.2375`. */
export const usd = (amount: number): string => formatUsd(fromUsd(amount));

/** A share as a percentage with one decimal, or a dash when there is none. */
export const percent = (rate: number | null): string => (rate === null ? '–' : `${Math.round(rate * 1000) / 10}%`);
