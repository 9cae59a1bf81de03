/**
 * The chain index of the deposits (issue 16): an Esplora-compatible HTTP API, the one
 * Blockstream's and mempool.space's self-hostable servers share. Only `GET /blocks/tip/height`,
 * `GET /address/:a/txs` and its confirmed pages `GET /address/:a/txs/chain/:last_txid`.
 */
import { request, type Dispatcher } from 'undici';
import { ChainBusy, type ChainIndex, type ChainTx } from '../core/deposits/port.js';

/** Esplora's page of confirmed transactions has this many; a full one means there may be more. */
const CHAIN_PAGE = 25;
/** Past this many pages of one address, older history is left alone (it was seen before). */
const MAX_PAGES = 40;
/** Per request; the watcher's lease of an address (20 s) covers a tip and an address page. */
const TIMEOUT_MS = 8_000;
/** An answer larger than this is not an address's page of transactions. */
const MAX_BODY = 8 * 1024 * 1024;

interface EsploraTx {
  txid?: unknown;
  vout?: { scriptpubkey_address?: unknown; value?: unknown }[];
  status?: { confirmed?: unknown; block_height?: unknown };
}

export class EsploraError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'EsploraError';
  }
}

export class Esplora implements ChainIndex {
  private readonly base: string;

  constructor(
    baseUrl: string,
    private readonly options: { timeoutMs?: number; dispatcher?: Dispatcher; userAgent?: string } = {},
  ) {
    this.base = baseUrl.replace(/\/+$/, '');
  }

  async tipHeight(): Promise<number> {
    const text = (await this.get('/blocks/tip/height')).trim();
    const height = Number(text);
    if (!/^\d+$/.test(text) || !Number.isSafeInteger(height)) throw new EsploraError('The chain index answered a tip height that is not a number.');
    return height;
  }

  async addressTxs(address: string): Promise<{ txs: ChainTx[]; complete: boolean }> {
    const path = `/address/${encodeURIComponent(address)}/txs`;
    const first = parseTxs(await this.get(path));
    const all = [...first];
    let confirmed = first.filter((t) => t.blockHeight !== null);
    let page = 1;
    for (; confirmed.length === CHAIN_PAGE && page < MAX_PAGES; page++) {
      const next = parseTxs(await this.get(`${path}/chain/${encodeURIComponent(confirmed[confirmed.length - 1]!.txid)}`));
      all.push(...next);
      confirmed = next.filter((t) => t.blockHeight !== null);
    }
    return { txs: all, complete: confirmed.length < CHAIN_PAGE };
  }

  private async get(path: string): Promise<string> {
    const timeout = this.options.timeoutMs ?? TIMEOUT_MS;
    let res: Dispatcher.ResponseData;
    try {
      res = await request(this.base + path, {
        method: 'GET',
        headers: { accept: 'application/json, text/plain', 'user-agent': this.options.userAgent ?? 'tn-deposits' },
        headersTimeout: timeout,
        bodyTimeout: timeout,
        signal: AbortSignal.timeout(timeout),
        dispatcher: this.options.dispatcher,
      });
    } catch (err) {
      throw new EsploraError(`The chain index cannot be reached: ${err instanceof Error ? (('code' in err && String(err.code)) || err.message) : String(err)}`);
    }
    if (res.statusCode === 429) {
      await res.body.dump();
      throw new ChainBusy(retryAfterMs(res.headers['retry-after']));
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body) {
      size += (chunk as Buffer).length;
      if (size > MAX_BODY) {
        res.body.destroy();
        throw new EsploraError('The chain index answered more than an address page can hold.');
      }
      chunks.push(chunk as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (res.statusCode !== 200) throw new EsploraError(`The chain index answered HTTP ${res.statusCode} to ${path.split('/')[1]}: ${text.slice(0, 200)}`);
    return text;
  }
}

function parseTxs(text: string): ChainTx[] {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch {
    throw new EsploraError('The chain index answered something that is not JSON.');
  }
  if (!Array.isArray(data)) throw new EsploraError('The chain index answered something that is not a list of transactions.');
  return (data as EsploraTx[]).map((t) => {
    if (typeof t?.txid !== 'string' || !/^[0-9a-f]{64}$/.test(t.txid) || !Array.isArray(t.vout)) throw new EsploraError('A transaction of the chain index has no txid or outputs.');
    const height = t.status?.confirmed === true && typeof t.status.block_height === 'number' ? t.status.block_height : null;
    return {
      txid: t.txid,
      blockHeight: height,
      outputs: t.vout.map((o) => ({
        address: typeof o?.scriptpubkey_address === 'string' ? o.scriptpubkey_address : null,
        sats: typeof o?.value === 'number' && Number.isSafeInteger(o.value) && o.value >= 0 ? o.value : 0,
      })),
    };
  });
}

function retryAfterMs(header: string | string[] | undefined): number | null {
  const value = Array.isArray(header) ? header[0] : header;
  if (!value) return null;
  const seconds = Number(value);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.min(seconds, 86_400) * 1000;
  const date = Date.parse(value);
  return Number.isNaN(date) ? null : Math.max(0, date - Date.now());
}
