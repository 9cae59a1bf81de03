import type { AttemptStep, VerifiedOrder, VerifyAttempt } from '../core/broker.js';
import { PER_ATTEMPT_SECONDS, VERIFY_ATTEMPTS } from '../core/limits.js';
import { integerIn } from './command.js';
import type { IO, Spinner } from './io.js';
import { usd } from './output.js';

/** `tn verify`'s `--attempts` and `--per-attempt`, with the bounds the core enforces. */
export const ATTEMPTS_OPTION = [
  '--attempts <n>',
  `numbers to try in turn when one gets no SMS (${VERIFY_ATTEMPTS.min}–${VERIFY_ATTEMPTS.max}, default ${VERIFY_ATTEMPTS.default})`,
  integerIn(VERIFY_ATTEMPTS.min, VERIFY_ATTEMPTS.max, 'attempts'),
] as const;
export const PER_ATTEMPT_OPTION = [
  '--per-attempt <seconds>',
  `seconds each number waits for its SMS before it is refunded (${PER_ATTEMPT_SECONDS.min}–${PER_ATTEMPT_SECONDS.max}, default ${PER_ATTEMPT_SECONDS.default})`,
  integerIn(PER_ATTEMPT_SECONDS.min, PER_ATTEMPT_SECONDS.max, 'per-attempt'),
] as const;

function stepLine(attempt: VerifyAttempt, next: number, of: number, waitedSeconds?: number): string {
  const after = waitedSeconds === undefined ? '' : ` after ${waitedSeconds} s`;
  const why = attempt.outcome === 'no_sms' ? `no SMS on ${attempt.phone}${after}` : `${attempt.phone} ${attempt.outcome}`;
  const refund = attempt.refund > 0 ? `, refunded ${usd(attempt.refund)}` : '';
  return `${why}${refund}; trying another number (${next}/${of})`;
}

/**
 * Tells each attempt that got no SMS on stderr (above the spinner on a terminal). The embedded
 * broker reports them as they happen; over HTTP they come in the answer's `attempts`, so the ones
 * not told yet are told once it arrives. stdout stays the code alone.
 */
export function attemptReporter(io: IO, spinner: Spinner, of: number): { onAttempt(step: AttemptStep): void; after(order: VerifiedOrder): void } {
  const told = new Set<string>();
  const tell = (line: string): void => (io.stderrIsTTY ? spinner.note(line) : io.err(line));
  return {
    onAttempt(step) {
      told.add(step.attempt.order_id);
      tell(stepLine(step.attempt, step.index + 1, step.of, step.waitedSeconds));
    },
    after(order) {
      const tried = order.attempts ?? [];
      tried.slice(0, -1).forEach((attempt, i) => {
        if (!told.has(attempt.order_id)) tell(stepLine(attempt, i + 2, of));
      });
    },
  };
}
