import { isTnError, type TnError } from '../core/errors.js';
import { countryLabel, countryShort, liftTime } from './format.js';

/** The status line: what happened and, for a failure, what to do next. */
export interface Status {
  kind: 'info' | 'error';
  text: string;
  next?: string;
}

export const info = (text: string): Status => ({ kind: 'info', text });

/** What the app knows beyond the error itself, to say it better. */
export interface ErrorContext {
  /** A platform's name from its id. */
  nameOf?: (platform: string) => string;
  /** For `delivery_rate_low`: countries to suggest instead (the broker has stock there and does not pause it). */
  alternatives?: readonly string[];
  now?: number;
}

/**
 * A failure as the status line shows it: the broker's own message and a next step in this app's
 * keys. Never a stack trace; the app keeps running.
 */
export function errorStatus(err: unknown, endpoint: string, context: ErrorContext = {}): Status {
  if (!isTnError(err)) {
    const message = err instanceof Error ? err.message : String(err);
    return { kind: 'error', text: `Unexpected error: ${message}`, next: 'This is a bug in tn: please report it. r reloads, q quits.' };
  }
  if (err.code === 'delivery_rate_low') return pausedStatus(err, context) ?? { kind: 'error', text: err.message, next: PAUSED_NEXT };
  return { kind: 'error', text: err.message, next: nextStep(err.code, endpoint) };
}

const PAUSED_NEXT = 'Press C to choose another country, or pick another platform.';

/**
 * `delivery_rate_low`, shorter than the broker's message so that it fits the status line with its
 * next step: where orders are paused, until when (local time), why, and where to order instead.
 */
function pausedStatus(err: TnError, { nameOf, alternatives, now = Date.now() }: ErrorContext): Status | null {
  const { platform, country, lifts_at: liftsAt } = err.details;
  if (typeof platform !== 'string' || typeof country !== 'string' || typeof liftsAt !== 'string') return null;
  const text = `${nameOf?.(platform) ?? platform} orders in ${countryShort(country)} are paused until ${liftTime(liftsAt, now)}: too few of them got an SMS.`;
  if (!alternatives) return { kind: 'error', text, next: PAUSED_NEXT };
  if (!alternatives.length) return { kind: 'error', text, next: 'Pick another platform, or press C for another country.' };
  const names = alternatives.map(countryLabel).join(' or ');
  return { kind: 'error', text, next: `Press C for another country, e.g. ${names}.` };
}

function nextStep(code: string, endpoint: string): string | undefined {
  const local = endpoint === 'local';
  switch (code) {
    case 'insufficient_balance':
      return local
        ? 'Add credit with `tn admin credit <account_id> <usd>` (a shows the account id), or pick a cheaper platform.'
        : "Ask the broker's operator for credit (a shows your account id), or pick a cheaper platform.";
    case 'no_numbers':
      return 'Press C to choose another country, or try again later.';
    case 'unknown_country':
      return 'Press C to choose a country from the list.';
    case 'unknown_platform':
      return 'Pick a platform from the list (r reloads it).';
    case 'unavailable':
      return local ? 'Press r to try again.' : `Is the broker at ${endpoint} running? Press r to try again, q to quit.`;
    case 'unauthorized':
      return local
        ? 'Check TN_API_KEY, or `tn config list`; then start tn ui again.'
        : `Check TN_API_KEY, or run \`tn login --endpoint ${endpoint}\`; then start tn ui again.`;
    case 'rate_limited':
      return 'Too many requests: wait a moment, then try again.';
    case 'order_not_active':
      return 'Esc goes back; Enter on a platform orders a new number.';
    case 'not_found':
      return 'Press o for your orders.';
    default:
      return undefined;
  }
}
