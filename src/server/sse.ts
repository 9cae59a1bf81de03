import type { FastifyReply, FastifyRequest } from 'fastify';
import { SSE_RETRY_MS } from '../core/limits.js';

export interface SseStream {
  send(event: string, data: unknown, id?: string): void;
  /** Like `send`, with `data` already JSON text. */
  sendJson(event: string, json: string, id?: string): void;
  close(): void;
  readonly closed: boolean;
  /** Runs once when the stream ends, whoever ended it. */
  onClose(fn: () => void): void;
}

/** Every open stream, so one timer sends every keep-alive comment (not one timer per client). */
const open = new Set<{ comment(): void }>();
let heartbeat: NodeJS.Timeout | undefined;
let heartbeatEvery = 0;

function ensureHeartbeat(ms: number): void {
  if (heartbeat && heartbeatEvery === ms) return;
  if (heartbeat) clearInterval(heartbeat);
  heartbeatEvery = ms;
  heartbeat = setInterval(() => {
    for (const s of open) s.comment();
  }, ms);
  heartbeat.unref();
}

/** Takes the response over for Server-Sent Events; headers set so far (request id, rate limits) are kept. */
export function openSse(request: FastifyRequest, reply: FastifyReply, heartbeatMs: number): SseStream {
  reply.hijack();
  const res = reply.raw;
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(reply.getHeaders())) if (v !== undefined) headers[k] = String(v);
  res.writeHead(200, {
    ...headers,
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-cache, no-transform',
    connection: 'keep-alive',
    // nginx and friends would otherwise buffer the stream.
    'x-accel-buffering': 'no',
  });
  // Sets the reconnection pace before any event: clients resume with Last-Event-ID at this interval, not their own default.
  res.write(`retry: ${SSE_RETRY_MS}\n\n`);

  const closers: (() => void)[] = [];
  let closed = false;
  const entry = { comment: () => void res.write(': keep-alive\n\n') };
  const finish = (): void => {
    if (closed) return;
    closed = true;
    open.delete(entry);
    for (const fn of closers) fn();
  };
  open.add(entry);
  ensureHeartbeat(heartbeatMs);
  request.raw.on('close', finish);
  res.on('close', finish);

  return {
    get closed() {
      return closed;
    },
    send(event, data, id) {
      this.sendJson(event, JSON.stringify(data), id);
    },
    sendJson(event, json, id) {
      if (closed) return;
      res.write(`${id === undefined ? '' : `id: ${id}\n`}event: ${event}\ndata: ${json}\n\n`);
    },
    close() {
      if (!closed) res.end();
      finish();
    },
    onClose(fn) {
      if (closed) fn();
      else closers.push(fn);
    },
  };
}
