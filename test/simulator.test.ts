import { describe, expect, it } from 'vitest';
import { PLATFORMS } from '../src/core/catalogue/catalog.js';
import { extractCode } from '../src/core/extract.js';
import { SIMULATOR_COUNTRIES, Simulator, simulatorTemplates } from '../src/providers/simulator.js';
import { seededRandom } from './helpers.js';

/** The broker's answer to "which of these are held?", from a set of held numbers. */
const heldOf = (taken: ReadonlySet<string>) => async (candidates: readonly string[]): Promise<Set<string>> => new Set(candidates.filter((p) => taken.has(p)));
const none = heldOf(new Set());

describe('simulator', () => {
  it('hands out only numbers from ranges reserved for fiction', async () => {
    const sim = new Simulator({ random: seededRandom(1) });
    const fiction: Record<string, RegExp> = {
      us: /^\+1\d{3}55501\d{2}$/,
      ca: /^\+1\d{3}55501\d{2}$/,
      gb: /^\+44(7700900|2079460)\d{3}$/,
      fr: /^\+3363998\d{4}$/,
    };
    expect(SIMULATOR_COUNTRIES.sort()).toEqual(Object.keys(fiction).sort());
    for (const country of SIMULATOR_COUNTRIES) {
      for (let i = 0; i < 200; i++) expect(await sim.pickPhone('instagram', country, none)).toMatch(fiction[country]!);
    }
    expect(await sim.pickPhone('instagram', 'de', none)).toBeNull();
  });

  it('has stock for at least 1,000 simultaneous orders per platform and country, each on its own number', async () => {
    const sim = new Simulator({ random: seededRandom(2) });
    for (const country of SIMULATOR_COUNTRIES) {
      expect(sim.capacity('whatsapp', country)).toBeGreaterThanOrEqual(1000);
      const taken = new Set<string>();
      for (let i = 0; i < sim.capacity('whatsapp', country); i++) {
        const phone = await sim.pickPhone('whatsapp', country, heldOf(taken));
        expect(phone).not.toBeNull();
        expect(taken.has(phone!)).toBe(false);
        taken.add(phone!);
      }
      expect(await sim.pickPhone('whatsapp', country, heldOf(taken))).toBeNull();
    }
  });

  it('writes SMS whose code the extractor reads back, for every platform and wording', () => {
    const random = seededRandom(3);
    for (const platform of PLATFORMS) {
      expect(simulatorTemplates(platform).length).toBeGreaterThanOrEqual(3);
      for (let i = 0; i < 40; i++) {
        const sms = new Simulator({ random }).composeSms(platform.id);
        expect(sms.text).toContain(platform.code.alphabet === 'digits' && platform.id === 'whatsapp' ? sms.code.slice(0, 3) : sms.code);
        expect(extractCode(sms.text, { platform: platform.id })?.code, `${platform.id}: ${sms.text}`).toBe(sms.code);
      }
    }
  });

  it('plans deliveries after the configured delay, or never at the no-SMS rate', () => {
    expect(new Simulator({ delayMs: 0 }).planDelivery()).toBe(0);
    const random = new Simulator({ random: seededRandom(4) });
    for (let i = 0; i < 100; i++) {
      const d = random.planDelivery()!;
      expect(d).toBeGreaterThanOrEqual(1000);
      expect(d).toBeLessThanOrEqual(4000);
    }
    expect(new Simulator({ noSmsRate: 1 }).planDelivery()).toBeNull();
    const some = new Simulator({ noSmsRate: 0.5, random: seededRandom(5), delayMs: 1 });
    const lost = Array.from({ length: 400 }, () => some.planDelivery()).filter((d) => d === null).length;
    expect(lost).toBeGreaterThan(140);
    expect(lost).toBeLessThan(260);
  });
});
