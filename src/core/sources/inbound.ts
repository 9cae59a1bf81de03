/**
 * SMS from the operator's own gateways: authenticated and parsed by the source's format, stored
 * once (a repeated gateway message id changes nothing), and given to the active order on the
 * receiving number that it can be for.
 */
import type { CoreContext } from '../context.js';
import { TnError, invalid, notFound } from '../errors.js';
import { extractCode } from '../extract.js';
import type { OrderLife } from '../orders/life.js';
import type { OrderRecord } from '../orders/order.js';
import { chooseOrder } from './matching.js';
import type { InboundParser, InboundReply, InboundRequest } from './providers.js';
import type { SourceRegistry } from './registry.js';
import type { Upstreams } from './upstream.js';

/** How far a gateway's clock may be off ours when telling whether a message came after an order. */
const INBOUND_CLOCK_SKEW_MS = 60_000;
/** Refused inbound requests are recorded for the operator at most this often per source. */
const INBOUND_COMPLAINT_GAP_MS = 5_000;

export class InboundSms {
  /** When a refused inbound request was last recorded, per source. */
  private readonly complaints = new Map<string, number>();

  constructor(
    private readonly ctx: CoreContext,
    private readonly registry: SourceRegistry,
    private readonly life: OrderLife,
    private readonly upstreams: Upstreams,
    /** The gateway formats, loaded by the first inbound message, not by every process that opens the core. */
    private readonly parser: () => Promise<InboundParser>,
  ) {}

  async receive(sourceName: string, request: Omit<InboundRequest, 'now'>): Promise<InboundReply> {
    const source = await this.registry.byName(sourceName);
    if (!source || source.role !== 'gateway') throw notFound(`Inbound source "${sourceName}"`);
    const now = this.ctx.now();
    const parsed = (await this.parser())(source.kind, source.secret, { ...request, now });
    if (!parsed.ok) {
      // Why is not told to whoever sent it, but the operator sees it in `tn admin sources`: at most
      // once in a few seconds per source, so that a flood of bad requests is not a flood of writes.
      if ((this.complaints.get(source.name) ?? -Infinity) + INBOUND_COMPLAINT_GAP_MS <= now) {
        this.complaints.set(source.name, now);
        await this.upstreams.recordError(source.name, parsed.status === 403 ? 'inbound_forbidden' : 'inbound_malformed', parsed.reason, now);
      }
      if (parsed.status === 403) throw new TnError('forbidden', `The request is not authenticated as source "${sourceName}".`);
      throw invalid(`Not a valid ${source.kind} message: ${parsed.reason}`);
    }
    const m = parsed.message;
    await this.ctx.db.transaction(async (tx): Promise<OrderRecord | null> => {
      if (m.messageId !== null && (await tx.inbox.seen(source.name, m.messageId))) return null;
      let phone = m.to;
      if (phone === null && m.device) {
        // A message with no SIM slot fits a device with one number in the pool.
        const rows = await tx.pool.ofDevice(source.name, m.device.id);
        const sim = m.device.sim;
        const match = sim === null ? (rows.length === 1 ? rows[0] : undefined) : (rows.find((r) => r.sim === sim) ?? (rows.length === 1 && rows[0]!.sim === null ? rows[0] : undefined));
        phone = match?.phone ?? null;
      }
      const inboxId = await tx.inbox.insert({
        source: source.name,
        messageId: m.messageId,
        to: phone,
        from: m.from,
        device: m.device?.id ?? null,
        sim: m.device?.sim ?? null,
        text: m.text,
        receivedAt: m.receivedAt,
        storedAt: now,
      });
      if (phone === null) return null;
      // Only orders this source served: a gateway's credentials cannot complete another's orders.
      // A message the gateway received before the order existed (or was retried) is not its code.
      const candidates = (await tx.orders.activeOnNumber(phone, source.name, m.receivedAt)).filter(
        (o) => Math.max(o.createdAt, o.retriedAt ?? 0) - INBOUND_CLOCK_SKEW_MS <= m.receivedAt,
      );
      const chosen = chooseOrder(candidates, m.from, m.text);
      if (!chosen) return null;
      const done = await this.life.acceptSms(tx, chosen, {
        sender: m.from,
        text: m.text,
        code: extractCode(m.text, { platform: chosen.platform })?.code ?? null,
        receivedAt: now,
      });
      if (done) await tx.inbox.link(inboxId, chosen.id);
      return done;
    });
    return parsed.reply;
  }
}
