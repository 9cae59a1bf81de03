/**
 * A webhook receiver for the tests, written only with the `standardwebhooks` library: a plain
 * node:http server that records every request, checks it with `new Webhook(secret).verify(...)`
 * for each secret it holds, and answers what the test tells it to.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import { afterEach } from 'vitest';

export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: unknown;
}

export interface Hit {
  /** 0-based arrival index. */
  n: number;
  /** Date.now() when the request body was complete. */
  at: number;
  method: string;
  path: string;
  headers: Record<string, string>;
  /** The `webhook-id`, `webhook-timestamp` and `webhook-signature` headers ('' when missing). */
  id: string;
  timestamp: string;
  signature: string;
  /** The raw body, exactly as received. */
  body: string;
  /** The status code the receiver answered. */
  status: number;
  /** The secrets held when it arrived, and for each whether `standardwebhooks` accepted the delivery. */
  secrets: string[];
  verified: boolean[];
  /** Why verification failed, per secret ('' when it passed). */
  errors: string[];
  /** What `Webhook.verify` returned for the first secret that accepted it. */
  payload: WebhookPayload | null;
}

export interface Answer {
  status: number;
  headers?: Record<string, string>;
  body?: string;
  /** Answer only after this many milliseconds (the hit is recorded at once). */
  delayMs?: number;
}

export interface Receiver {
  /** `http://HOST:PORT` (IPv6 hosts in brackets). */
  url: string;
  port: number;
  hits: Hit[];
  /** The secrets verification is tried with (set them when the webhook is registered or rotated). */
  secrets: string[];
  /** How to answer a request: 200 by default. */
  answer: (hit: Hit) => Answer;
  /** Resolves once `predicate(hits)` holds; rejects after `timeoutMs`. */
  waitFor(predicate: (hits: Hit[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Hits that the receiver accepted (2xx), deduplicated by `webhook-id`, in order of first arrival. */
  accepted(): Hit[];
  close(): Promise<void>;
}

const open = new Set<Receiver>();

afterEach(async () => {
  for (const r of [...open]) await r.close();
});

function headerRecord(req: IncomingMessage): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) if (v !== undefined) out[k] = Array.isArray(v) ? v.join(', ') : v;
  return out;
}

export interface ReceiverOptions {
  host?: string;
  port?: number;
  secrets?: string[];
  answer?: (hit: Hit) => Answer;
}

/** Starts a receiver on `host` (127.0.0.1 by default) and a free port. Closed after the test. */
export async function startReceiver(options: ReceiverOptions = {}): Promise<Receiver> {
  const host = options.host ?? '127.0.0.1';
  const hits: Hit[] = [];
  const waiters = new Set<() => void>();
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const headers = headerRecord(req);
      const body = Buffer.concat(chunks).toString('utf8');
      const secrets = [...r.secrets];
      const verified: boolean[] = [];
      const errors: string[] = [];
      let payload: WebhookPayload | null = null;
      for (const secret of secrets) {
        try {
          const parsed = new Webhook(secret).verify(body, headers) as WebhookPayload;
          payload ??= parsed;
          verified.push(true);
          errors.push('');
        } catch (err) {
          verified.push(false);
          errors.push(err instanceof Error ? err.message : String(err));
        }
      }
      const hit: Hit = {
        n: hits.length,
        at: Date.now(),
        method: req.method ?? '',
        path: req.url ?? '',
        headers,
        id: headers['webhook-id'] ?? '',
        timestamp: headers['webhook-timestamp'] ?? '',
        signature: headers['webhook-signature'] ?? '',
        body,
        status: 0,
        secrets,
        verified,
        errors,
        payload,
      };
      let answer: Answer;
      try {
        answer = r.answer(hit);
      } catch {
        answer = { status: 500 };
      }
      hit.status = answer.status;
      hits.push(hit);
      const reply = (): void => {
        if (res.destroyed) return;
        res.writeHead(answer.status, { 'content-type': 'text/plain', ...answer.headers });
        res.end(answer.body ?? '');
      };
      if (answer.delayMs) setTimeout(reply, answer.delayMs);
      else reply();
      for (const fn of [...waiters]) fn();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  let closed = false;
  const r: Receiver = {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    port,
    hits,
    secrets: options.secrets ?? [],
    answer: options.answer ?? (() => ({ status: 200 })),
    waitFor(predicate, timeoutMs = 5000, what = 'deliveries') {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          if (!predicate(hits)) return;
          done();
          resolve();
        };
        const timer = setTimeout(() => {
          done();
          const seen = hits.map((h) => `${h.status} ${h.payload?.type ?? h.body.slice(0, 60)} ${h.id}`).join('\n  ');
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; the receiver saw ${hits.length}:\n  ${seen}`));
        }, timeoutMs);
        const done = (): void => {
          clearTimeout(timer);
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      });
    },
    accepted() {
      const seen = new Set<string>();
      const out: Hit[] = [];
      for (const h of hits) {
        if (h.status < 200 || h.status >= 300 || seen.has(h.id)) continue;
        seen.add(h.id);
        out.push(h);
      }
      return out;
    },
    async close() {
      if (closed) return;
      closed = true;
      open.delete(r);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
  open.add(r);
  return r;
}

/** The type of a hit, read from its raw body (for hits that did not verify). */
export function typeOf(hit: Hit): string {
  try {
    return (JSON.parse(hit.body) as WebhookPayload).type;
  } catch {
    return '';
  }
}

/** One block of a Server-Sent Events stream, with its `id:` line. */
export interface SseBlock {
  id: string | null;
  event: string;
  data: string;
}

/** Splits raw event-stream text into its events (comments and incomplete trailing blocks left out). */
export function sseBlocks(raw: string): SseBlock[] {
  const blocks: SseBlock[] = [];
  const parts = raw.replace(/\r\n?/g, '\n').split('\n\n');
  parts.pop();
  for (const part of parts) {
    let id: string | null = null;
    let event = 'message';
    const data: string[] = [];
    let any = false;
    for (const line of part.split('\n')) {
      if (line === '' || line.startsWith(':')) continue;
      const at = line.indexOf(':');
      const field = at === -1 ? line : line.slice(0, at);
      const value = at === -1 ? '' : line.slice(at + 1).replace(/^ /, '');
      if (field === 'id') id = value;
      else if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else continue;
      any = true;
    }
    if (any) blocks.push({ id, event, data: data.join('\n') });
  }
  return blocks;
}
