import { TnError } from '../core/errors.js';
import type { Factory } from '../cli/factory.js';

/** Placeholder until the Ink app lands. */
export async function runUi(f: Factory): Promise<number> {
  void f;
  throw new TnError('invalid_request', 'The terminal app is not built yet.');
}
