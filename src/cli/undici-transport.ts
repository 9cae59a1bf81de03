import { Readable } from 'node:stream';
import { Agent, request } from 'undici';
import type { Transport } from '../client/transport.js';

/**
 * The client's transport in the CLI: undici with a keep-alive pool (the CLI makes many requests to
 * one server), and the `103 Early Hints` of `POST /verify`, which `fetch` does not show.
 */
export function undiciTransport(): Transport {
  const dispatcher = new Agent({ keepAliveTimeout: 10_000, connections: 64 });
  return {
    async fetch(url, init) {
      const res = await request(url, {
        method: init.method as 'GET',
        headers: init.headers,
        body: init.body,
        dispatcher,
        signal: init.signal,
        // The client's own signals bound the time; undici's timers would only disagree with them.
        headersTimeout: 0,
        bodyTimeout: 0,
        onInfo: init.onInfo,
      });
      const headers = new Headers();
      for (const [k, v] of Object.entries(res.headers)) {
        if (v === undefined) continue;
        for (const one of Array.isArray(v) ? v : [v]) headers.append(k, one);
      }
      const empty = res.statusCode === 204 || res.statusCode === 304;
      if (empty) await res.body.dump();
      return new Response(empty ? null : (Readable.toWeb(res.body) as ReadableStream<Uint8Array>), { status: res.statusCode, headers });
    },
    close: () => dispatcher.close(),
  };
}
