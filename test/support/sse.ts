/** A Server-Sent Events client over a real socket (fetch), for the stream tests. */

export interface SseEvent {
  event: string;
  data: unknown;
}

/** How a stream ended: the server closed it, we aborted it, or the connection broke. */
export type SseEnding = 'closed' | 'aborted' | 'reset';

export interface SseClient {
  status: number;
  headers: Headers;
  /** The error body when the answer is not an event stream. */
  body?: string;
  /** Events received so far (grows while the stream is open). */
  events: SseEvent[];
  /** Raw text received so far. */
  text(): string;
  /** Resolves when the stream ends, however it ends. */
  ended: Promise<SseEnding>;
  /** Resolves once `predicate(events)` holds; rejects if the stream ends first or after `timeoutMs`. */
  waitFor(predicate: (events: SseEvent[]) => boolean, timeoutMs?: number): Promise<SseEvent[]>;
  abort(): void;
}

/** Opens `url` as an event stream and reads it in the background. */
export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  let raw = '';
  const listeners = new Set<() => void>();
  const notify = (): void => {
    for (const fn of [...listeners]) fn();
  };

  if (!(res.headers.get('content-type') ?? '').startsWith('text/event-stream')) {
    const body = await res.text();
    return {
      status: res.status,
      headers: res.headers,
      body,
      events,
      text: () => body,
      ended: Promise.resolve('closed'),
      waitFor: () => Promise.reject(new Error(`not an event stream (${res.status}): ${body}`)),
      abort: () => controller.abort(),
    };
  }

  let aborted = false;
  let finished: SseEnding | null = null;
  const ended = (async (): Promise<SseEnding> => {
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buffer = '';
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return 'closed';
        const chunk = decoder.decode(value, { stream: true });
        raw += chunk;
        buffer += chunk;
        let at: number;
        while ((at = buffer.indexOf('\n\n')) !== -1) {
          const block = buffer.slice(0, at);
          buffer = buffer.slice(at + 2);
          let event = 'message';
          const data: string[] = [];
          for (const line of block.split('\n')) {
            if (line.startsWith(':')) continue;
            if (line.startsWith('event:')) event = line.slice(6).trim();
            else if (line.startsWith('data:')) data.push(line.slice(5).replace(/^ /, ''));
          }
          if (data.length === 0 && event === 'message') continue;
          const text = data.join('\n');
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // keep the text
          }
          events.push({ event, data: parsed });
        }
        notify();
      }
    } catch {
      return aborted ? 'aborted' : 'reset';
    }
  })().then((how) => {
    finished = how;
    notify();
    return how;
  });

  return {
    status: res.status,
    headers: res.headers,
    events,
    text: () => raw,
    ended,
    waitFor(predicate, timeoutMs = 5000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (predicate(events)) {
            done();
            resolve(events);
          } else if (finished) {
            done();
            reject(new Error(`the stream ended (${finished}) first; events: ${JSON.stringify(events)}`));
          }
        };
        const timer = setTimeout(() => {
          done();
          reject(new Error(`timed out after ${timeoutMs} ms; events: ${JSON.stringify(events)}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          listeners.delete(check);
        };
        listeners.add(check);
        check();
      });
    },
    abort() {
      aborted = true;
      controller.abort();
    },
  };
}
