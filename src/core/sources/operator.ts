/** The operator's commands on sources, their pool and their inbox, and what `tn admin sources` shows. */
import { requirePlatform } from '../catalogue/catalog.js';
import { requireCountry } from '../catalogue/countries.js';
import type { CoreContext } from '../context.js';
import { TnError, invalid, notFound } from '../errors.js';
import { MAX_COOLDOWN_MS, SOURCE_NAME_PATTERN, SOURCE_SECRET } from '../limits.js';
import { toUsd, type Micros } from '../money.js';
import type { OrderLife } from '../orders/life.js';
import { checkOrderId } from '../orders/life.js';
import { toOrderView, type Order } from '../orders/order.js';
import { normalisePhone } from '../phone.js';
import { SOURCE_KIND_TABLE, SOURCE_KINDS, isGatewayKind, isSourceKind, type SourceKind } from './kinds.js';
import type { InboxEntry, PoolNumber, SourceRecord, SourceStats } from './port.js';
import type { SourceRegistry } from './registry.js';
import type { Upstreams } from './upstream.js';

export interface NewSource {
  name: string;
  kind: SourceKind;
  secret?: string;
  cost?: Micros;
  settings?: SourceRecord['settings'];
}

/** A source as `tn admin sources` shows it. */
export interface SourceOverview extends SourceStats {
  kind: string;
  enabled: boolean;
  belowFloor: boolean;
  /** An upstream's balance, when asked for and known. */
  upstreamBalance: Micros | null;
}

/** Orphaned activations are counted over this much history. */
const ORPHAN_WINDOW_MS = 86_400_000;
const SOURCE_NAME = new RegExp(SOURCE_NAME_PATTERN);

export class SourceAdmin {
  constructor(
    private readonly ctx: CoreContext,
    private readonly registry: SourceRegistry,
    private readonly upstreams: Upstreams,
    private readonly life: OrderLife,
  ) {}

  async add(input: NewSource): Promise<SourceRecord> {
    const name = checkName(input.name);
    if (!isSourceKind(input.kind)) throw invalid(`Unknown source kind "${String(input.kind)}": one of ${SOURCE_KINDS.join(', ')}.`);
    const cost = input.cost ?? 0;
    if (!Number.isSafeInteger(cost) || cost < 0) throw invalid('The cost must be a USD amount of at least 0.');
    const secret = input.secret ?? null;
    if (secret !== null && (secret.length < SOURCE_SECRET.min || secret.length > SOURCE_SECRET.max || /\s/.test(secret))) {
      throw invalid(`A token or key must be ${SOURCE_SECRET.min} to ${SOURCE_SECRET.max} characters with no spaces.`);
    }
    const flag = SOURCE_KIND_TABLE[input.kind].secretFlag;
    if (flag !== null && secret === null) throw invalid(`A ${input.kind} source needs ${flag}.`);
    const settings = input.settings ?? {};
    if (settings.cooldownMs !== undefined && (!Number.isInteger(settings.cooldownMs) || settings.cooldownMs < 0 || settings.cooldownMs > MAX_COOLDOWN_MS)) {
      throw invalid('The cool-down is a whole number of seconds from 0 to 7 days.');
    }
    if (settings.baseUrl !== undefined) checkHttpUrl(settings.baseUrl, '--base-url');
    else if ('needsBaseUrl' in SOURCE_KIND_TABLE[input.kind]) {
      throw invalid(`A ${input.kind} source needs --base-url: the provider's handler URL, such as https://provider.example/stubs/handler_api.php.`);
    }
    const record: SourceRecord = { name, kind: input.kind, secret, settings, cost, enabled: true, createdAt: this.ctx.now() };
    await this.ctx.db.transaction(async (tx) => {
      if (await tx.sources.exists(name)) throw invalid(`A source named "${name}" already exists: pick another name, or remove it first.`);
      await tx.sources.insert(record);
    });
    this.registry.changed();
    return record;
  }

  list(): Promise<SourceRecord[]> {
    return this.ctx.db.read.sources.list();
  }

  async setEnabled(name: string, enabled: boolean): Promise<void> {
    const found = await this.ctx.db.transaction((tx) => tx.sources.setEnabled(name, enabled));
    this.registry.changed();
    if (!found) throw notFound(`Source "${name}"`);
  }

  /** Removes the source and its pool numbers; refused while it has active orders. */
  async remove(name: string): Promise<void> {
    const removed = await this.ctx.db.transaction(async (tx) => {
      const active = await tx.sources.activeOrders(name);
      if (active > 0) throw invalid(`Source "${name}" has ${active} active order(s): disable it now (\`tn admin source disable ${name}\`) and remove it once they end.`);
      await tx.pool.removeOfSource(name);
      return tx.sources.remove(name);
    });
    this.registry.changed();
    if (!removed) throw notFound(`Source "${name}"`);
  }

  async addPoolNumber(input: { phone: string; source: string; country: unknown; platforms: string[] | '*'; device: string | null; sim: number | null }): Promise<PoolNumber> {
    const phone = normalisePhone(input.phone);
    if (phone === null || phone.length < 8) throw invalid(`"${input.phone}" is not a phone number in E.164 form, e.g. +447700900123.`);
    const country = requireCountry(input.country);
    if (country === 'any') throw invalid('Name the country of the number, e.g. --country gb.');
    const source = (await this.registry.records()).find((s) => s.name === input.source);
    if (!source) throw new TnError('not_found', `No source named "${input.source}": add it first with \`tn admin source add\`.`);
    if (!isGatewayKind(source.kind)) throw invalid(`Source "${source.name}" is ${source.kind}: only the operator's own gateways have a pool.`);
    if (source.kind === 'android-gateway' && input.device === null) {
      throw invalid('SMS Gateway for Android names its device and SIM slot, not the number: pass --device <id> (and --sim <slot> for a dual-SIM phone).');
    }
    if (input.sim !== null && (!Number.isInteger(input.sim) || input.sim < 1 || input.sim > 8)) throw invalid('--sim is a slot number from 1 to 8.');
    if (input.device !== null && !/^[\w.:-]{1,128}$/.test(input.device)) throw invalid("--device is the gateway's device id (letters, digits, . : _ -).");
    const platforms = input.platforms === '*' ? '*' : [...new Set(input.platforms.map((p) => requirePlatform(p).id))];
    const entry: PoolNumber = { phone, source: input.source, country, platforms, device: input.device, sim: input.sim, addedAt: this.ctx.now() };
    await this.ctx.db.transaction(async (tx) => {
      if (await tx.pool.has(entry.phone)) throw invalid(`${entry.phone} is already in the pool: remove it first to change it.`);
      if (entry.device !== null && (await tx.pool.deviceTaken(entry.source, entry.device, entry.sim))) {
        throw invalid(`Device ${entry.device}${entry.sim === null ? '' : ` SIM ${entry.sim}`} of ${entry.source} already has a number in the pool.`);
      }
      await tx.pool.insert(entry);
    });
    this.registry.changed();
    return entry;
  }

  listPool(): Promise<PoolNumber[]> {
    return this.ctx.db.read.pool.list();
  }

  /** Refused while an order is active on the number. */
  async removePoolNumber(phone: string): Promise<void> {
    const normal = normalisePhone(phone);
    const removed =
      normal !== null &&
      (await this.ctx.db.transaction(async (tx) => {
        const active = await tx.pool.activeOrdersOn(normal);
        if (active > 0) throw invalid(`${normal} has ${active} active order(s): remove it once they end.`);
        return tx.pool.remove(normal);
      }));
    if (!removed) throw notFound(`Pool number ${phone}`);
  }

  inbox(options: { all?: boolean; limit?: number } = {}): Promise<InboxEntry[]> {
    return this.ctx.db.read.inbox.list({ unmatchedOnly: !options.all, limit: options.limit ?? 50 });
  }

  /** Per source: active orders, the last day's success and delivery time, errors of the last hour, numbers bought and not sold. */
  async overview(options: { balances?: boolean } = {}): Promise<SourceOverview[]> {
    const read = this.ctx.db.read;
    const now = this.ctx.now();
    const sources = await this.registry.all();
    const stats = await read.sources.stats(now);
    const errors = await read.sources.errorsSince(now - 3_600_000);
    const orphans = await read.activations.orphanCounts(now - ORPHAN_WINDOW_MS);
    const names = [...new Set([...sources.map((s) => s.name), ...stats.map((s) => s.source)])];
    const out: SourceOverview[] = [];
    for (const name of names) {
      const source = sources.find((s) => s.name === name);
      const st = stats.find((s) => s.source === name) ?? { source: name, active: 0, ended: 0, delivered: 0, medianDeliveryMs: null };
      out.push({
        ...st,
        errorsLastHour: errors.get(name) ?? 0,
        lastError: await read.sources.lastError(name),
        orphaned: orphans.get(name) ?? 0,
        kind: source?.kind ?? 'removed',
        enabled: source?.enabled ?? false,
        belowFloor: st.ended > 0 ? await this.registry.belowFloor(name) : false,
        upstreamBalance: null,
      });
    }
    // Asked only on request: it is a call upstream (TempNumber allows 10 a minute).
    if (options.balances) {
      for (const source of sources) {
        if (source.role === 'upstream') out.find((o) => o.source === source.name)!.upstreamBalance = await this.upstreams.balance(source);
      }
    }
    return out;
  }

  /** An order as the operator sees it: with the source that served it and, upstream, its activation. */
  async order(orderId: unknown): Promise<Order & { account_id: string; source: string; upstream: { activation_id: string; status: string; cost: number } | null }> {
    const rec = await this.life.get(checkOrderId(orderId));
    const activation = await this.ctx.db.read.activations.get(rec.id);
    return {
      ...toOrderView(rec),
      account_id: rec.accountId,
      source: rec.source,
      upstream: activation ? { activation_id: activation.activationId, status: activation.status, cost: toUsd(activation.cost) } : null,
    };
  }
}

function checkName(name: unknown): string {
  if (typeof name !== 'string' || !SOURCE_NAME.test(name)) {
    throw invalid('A source name is 1 to 40 lower-case letters, digits, - or _, starting with a letter or digit (it becomes part of the inbound URL).');
  }
  return name;
}

function checkHttpUrl(text: string, flag: string): void {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw invalid(`${flag} must be an http(s) URL.`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw invalid(`${flag} must be an http(s) URL.`);
}
