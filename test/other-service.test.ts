import { describe, expect, it } from 'vitest';
import { GENERIC_PLATFORM, PLATFORMS, requirePlatform } from '../src/core/catalogue/catalog.js';
import { platformOfServiceCode, serviceCodeOf } from '../src/core/catalogue/sms-activate-codes.js';
import { parseAgentQuery } from '../src/core/agent/parse.js';
import { fundedAccount, makeCore } from './helpers.js';

// The protocol family's generic service (issue 17 §4): `other`, code `ot`, any site not listed.

describe('the generic service', () => {
  it('is in the catalogue at its lowest price, and is sms-activate code ot both ways', () => {
    const other = requirePlatform('other');
    const lowest = Math.min(...PLATFORMS.filter((p) => p.id !== GENERIC_PLATFORM).map((p) => p.price));
    expect(other.price).toBe(lowest);
    expect(serviceCodeOf('other')).toBe('ot');
    expect(platformOfServiceCode('ot')).toBe('other');
    expect(requirePlatform('ot').id).toBe('other');
  });

  it("the seed's own example orders it in the stated country, and says so", async () => {
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5_000_000);
    const answer = await core.agent(accountId, 'I need a US verification number');
    expect(answer).toMatchObject({ understood: true, intent: 'order', interpretation: { platform: 'other', country: 'us', quantity: 1 } });
    expect(answer.message).toMatch(/No platform was named.*"other"/);
    expect(answer.orders).toHaveLength(1);
    expect(answer.orders![0]).toMatchObject({ platform: 'other', country: 'us', price: 0.08 });
    expect((await core.account(accountId)).balance).toBe(4.92);
  });

  it('still never spends on a guess: no country, or two platforms, or a named platform', async () => {
    expect(parseAgentQuery('I need a verification number')).toMatchObject({ understood: false });
    expect(parseAgentQuery('a whatsapp or telegram number in the US')).toMatchObject({ understood: false });
    expect(parseAgentQuery('I need a US verification number for WhatsApp')).toMatchObject({ understood: true, interpretation: { platform: 'whatsapp' } });
    const { core } = makeCore();
    const { accountId } = await fundedAccount(core, 5_000_000);
    const answer = await core.agent(accountId, 'I need a verification number');
    expect(answer.understood).toBe(false);
    expect((await core.account(accountId)).stats.orders).toBe(0);
  });
});
