/**
 * A fake Esplora server for the deposit tests: a plain `node:http` server answering the part of
 * the Esplora HTTP API (Blockstream's esplora, mempool.space's backend) that the watcher reads,
 * as its API documentation describes it:
 *
 * - `GET /blocks/tip/height` → the height of the last block, as plain text.
 * - `GET /address/:address/txs` → JSON, newest first: the address's mempool transactions (up to
 *   50), then its first 25 confirmed ones. `GET /address/:address/txs/chain/:last_seen_txid` →
 *   the next 25 confirmed ones after that txid.
 * - A transaction is `{ txid, version, locktime, vin, vout: [{ scriptpubkey, scriptpubkey_asm,
 *   scriptpubkey_type, scriptpubkey_address, value }], size, weight, fee, status: { confirmed,
 *   block_height?, block_hash?, block_time? } }`, `value` in satoshis.
 * - An address of another network than the server's is `400` with a plain-text reason; an
 *   unknown path `404`.
 *
 * Tests script the chain: `pay` puts a transaction in the mempool, `mine` adds blocks (confirming
 * the mempool), `drop` takes a transaction away, `unconfirm` puts a confirmed one back in the mempool (a reorg); `busy(n)` answers the next `n` requests 429
 * with a `Retry-After`, `fail(n)` answers them 500. Every request is logged. Closed after each test.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach } from 'vitest';

interface FakeTx {
  txid: string;
  vout: { address: string; sats: number }[];
  height: number | null;
  /** Order of arrival, for "newest first". */
  seq: number;
}

const open = new Set<FakeEsplora>();
afterEach(async () => {
  for (const f of [...open]) await f.close();
});

export class FakeEsplora {
  url = '';
  tip = 800_000;
  readonly requests: string[] = [];
  private readonly txs = new Map<string, FakeTx>();
  private seq = 0;
  private busyLeft = 0;
  private retryAfter = '1';
  private failLeft = 0;
  private readonly server: Server;

  /** `hrp`: the network's bech32 prefix (`bc`, `tb`, `ltc`): other addresses are refused as Esplora does. */
  constructor(private readonly hrp = 'bc') {
    this.server = createServer((req, res) => this.handle(req, res));
  }

  static async start(hrp = 'bc'): Promise<FakeEsplora> {
    const fake = new FakeEsplora(hrp);
    await new Promise<void>((resolve) => fake.server.listen(0, '127.0.0.1', resolve));
    fake.url = `http://127.0.0.1:${(fake.server.address() as AddressInfo).port}/api`;
    open.add(fake);
    return fake;
  }

  /** A transaction in the mempool paying these outputs (in this order: the vout is the position). */
  pay(outputs: { address: string; sats: number }[]): string {
    const txid = createHash('sha256').update(randomBytes(32)).digest('hex');
    this.txs.set(txid, { txid, vout: outputs, height: null, seq: this.seq++ });
    return txid;
  }

  /** `n` new blocks; the first one confirms everything in the mempool. */
  mine(n = 1): void {
    for (let i = 0; i < n; i++) {
      this.tip++;
      if (i === 0) for (const t of this.txs.values()) if (t.height === null) t.height = this.tip;
    }
  }

  /** An unconfirmed transaction leaves the mempool (replaced, or its block was orphaned before we saw it confirmed). */
  drop(txid: string): void {
    this.txs.delete(txid);
  }

  /** A reorg: a confirmed transaction goes back to the mempool (its block was replaced). */
  unconfirm(txid: string): void {
    const t = this.txs.get(txid);
    if (t) t.height = null;
  }

  busy(n: number, retryAfterSeconds = 1): void {
    this.busyLeft = n;
    this.retryAfter = String(retryAfterSeconds);
  }

  fail(n: number): void {
    this.failLeft = n;
  }

  addressRequests(): number {
    return this.requests.filter((r) => r.startsWith('/api/address/')).length;
  }

  close(): Promise<void> {
    open.delete(this);
    return new Promise((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    this.requests.push(path);
    if (this.busyLeft > 0) {
      this.busyLeft--;
      res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': this.retryAfter }).end('Too Many Requests');
      return;
    }
    if (this.failLeft > 0) {
      this.failLeft--;
      res.writeHead(500, { 'content-type': 'text/plain' }).end('Internal Server Error');
      return;
    }
    if (req.method !== 'GET') return void res.writeHead(405).end();
    if (path === '/api/blocks/tip/height') return void res.writeHead(200, { 'content-type': 'text/plain' }).end(String(this.tip));
    const m = /^\/api\/address\/([^/]+)\/txs(?:\/chain\/([0-9a-f]{64}))?$/.exec(path);
    if (!m) return void res.writeHead(404, { 'content-type': 'text/plain' }).end('Not Found');
    const address = decodeURIComponent(m[1]!);
    if (!address.startsWith(`${this.hrp}1`)) return void res.writeHead(400, { 'content-type': 'text/plain' }).end('Invalid Bitcoin address');
    const mine = [...this.txs.values()].filter((t) => t.vout.some((o) => o.address === address));
    const mempool = mine.filter((t) => t.height === null).sort((a, b) => b.seq - a.seq);
    const chain = mine.filter((t) => t.height !== null).sort((a, b) => b.height! - a.height! || b.seq - a.seq);
    let page: FakeTx[];
    if (m[2]) {
      const at = chain.findIndex((t) => t.txid === m[2]);
      page = at < 0 ? [] : chain.slice(at + 1, at + 26);
    } else page = [...mempool.slice(0, 50), ...chain.slice(0, 25)];
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(page.map((t) => this.toJson(t))));
  }

  private toJson(t: FakeTx): unknown {
    return {
      txid: t.txid,
      version: 2,
      locktime: 0,
      vin: [],
      vout: t.vout.map((o) => ({
        scriptpubkey: '0014' + createHash('sha256').update(o.address).digest('hex').slice(0, 40),
        scriptpubkey_asm: 'OP_0 OP_PUSHBYTES_20 …',
        scriptpubkey_type: 'v0_p2wpkh',
        scriptpubkey_address: o.address,
        value: o.sats,
      })),
      size: 222,
      weight: 561,
      fee: 141,
      status: t.height === null ? { confirmed: false } : { confirmed: true, block_height: t.height, block_hash: createHash('sha256').update(String(t.height)).digest('hex'), block_time: 1_700_000_000 + t.height * 600 },
    };
  }
}
