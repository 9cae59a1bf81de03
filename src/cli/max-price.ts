import { InvalidArgumentError } from 'commander';
import { parseUsd, toUsd } from '../core/money.js';

/**
 * `--max-price <usd>` of `order`, `verify`, `batch` and `mcp`: parsed exactly (no float on the
 * way in), handed to the broker as the API's USD number; the broker refuses a higher price.
 */
export function maxPriceArgument(value: string): number {
  const micros = parseUsd(value);
  if (micros === null || micros === 0) throw new InvalidArgumentError('a positive USD amount such as 0.25 (at most 6 decimals)');
  return toUsd(micros);
}

/** The option's flags and help, as `.option(...MAX_PRICE_OPTION)`. */
export const MAX_PRICE_OPTION = ['--max-price <usd>', 'refuse (exit 4, nothing charged) if the price for you is higher', maxPriceArgument] as const;
