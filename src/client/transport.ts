/**
 * How the HTTP client reaches a server: the standard `fetch` by default (Node ≥ 20, Bun, Deno,
 * browsers), or another implementation of the same shape, such as the CLI's pooled undici one
 * (which also reports the `103 Early Hints` that `fetch` hides). Nothing here is Node-specific.
 */
export interface HttpInit {
  method: string;
  headers: Record<string, string>;
  body?: string;
  signal?: AbortSignal;
  /** 1xx answers before the final one; a transport that cannot see them never calls it. */
  onInfo?: (info: { statusCode: number; headers: Record<string, string | string[]> }) => void;
}

export interface Transport {
  fetch(url: string, init: HttpInit): Promise<Response>;
  /** Releases pooled connections; the client calls it from its own `close()`. */
  close?(): Promise<void>;
}

/** A transport over a `fetch` function: the global one unless given. */
export function fetchTransport(fetchImpl: typeof fetch = (input, init) => globalThis.fetch(input, init)): Transport {
  return {
    fetch: (url, init) => fetchImpl(url, { method: init.method, headers: init.headers, body: init.body, signal: init.signal }),
  };
}

/** An abortable pause that resolves (never rejects) when `signal` aborts. */
export function pause(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = (): void => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** `signals` combined: aborted when any is (AbortSignal.any where it exists). */
export function anySignal(...signals: (AbortSignal | undefined)[]): AbortSignal {
  const present = signals.filter((s): s is AbortSignal => s !== undefined);
  if (present.length === 1) return present[0]!;
  const any = (AbortSignal as { any?: (s: AbortSignal[]) => AbortSignal }).any;
  if (any) return any(present);
  const controller = new AbortController();
  for (const s of present) {
    if (s.aborted) controller.abort(s.reason);
    else s.addEventListener('abort', () => controller.abort(s.reason), { once: true });
  }
  return controller.signal;
}

/** Reads a response body as text chunks as they arrive. */
export async function* textChunks(res: Response): AsyncGenerator<string> {
  if (!res.body) return;
  const reader = res.body.getReader();
  const decoder = new TextDecoder();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      yield decoder.decode(value, { stream: true });
    }
  } finally {
    reader.releaseLock();
    await res.body.cancel().catch(() => undefined);
  }
}
