/**
 * A deterministic English parser for the `agent` endpoint: "3 telegram numbers from the UK under
 * $0.50" becomes `{ intent: 'order', platform: 'telegram', country: 'gb', quantity: 3, max_price: 0.5 }`.
 *
 * Pure: no I/O, no randomness, no clock. It never guesses when money would be spent: an order or
 * a verification needs exactly one recognised platform, one quantity between 1 and 20, at most one
 * country and at most one price ceiling, or the answer is `understood: false` with suggestions
 * (example queries that would be understood).
 */
import { GENERIC_PLATFORM } from '../catalogue/catalog.js';
import { countryName } from '../catalogue/countries.js';
import { AGENT_MAX_QUERY_LENGTH } from '../limits.js';
import { MICROS_PER_USD } from '../money.js';
import { extractPrice } from './prices.js';
import { normaliseQuery, tokenize } from './text.js';
import { AGENT_EXAMPLES, AGENT_MAX_BATCH, type AgentIntent, type AgentInterpretation, AVAILABILITY_STRONG, AVAILABILITY_WEAK, BALANCE, INFO_QUESTION, NEGATION, NUMBER_NOUNS, ORDER_VERB, type ParsedAgentQuery, PLURAL_NUMBER_NOUNS, PRICES_STRONG, PRICES_WEAK, QUESTION_WORDS, UNSUPPORTED, VERIFY_STRONG, VERIFY_WEAK } from './vocabulary.js';
import { closePlatforms, exampleQuery, fail, findCountries, findCounts, findPlatforms, platformOf } from './words.js';

export { AGENT_EXAMPLES, AGENT_MAX_BATCH, type AgentIntent, type AgentInterpretation, type ParsedAgentQuery } from './vocabulary.js';
export { AGENT_MAX_QUERY_LENGTH } from '../limits.js';

export function parseAgentQuery(query: string): ParsedAgentQuery {
  if (typeof query !== 'string') return fail('The query must be a string of English text.');
  const trimmed = query.trim();
  if (trimmed === '') return fail('The query is empty. Say what you need, for example "order 1 whatsapp number in United States".');
  if (trimmed.length > AGENT_MAX_QUERY_LENGTH) {
    return fail(`The query is too long (${trimmed.length} characters; at most ${AGENT_MAX_QUERY_LENGTH}). Say it in one short sentence.`);
  }

  const price = extractPrice(normaliseQuery(trimmed));
  const tokens = tokenize(price.text);
  if (tokens.length === 0) return fail('Nothing in the query could be read. Say what you need in English.');
  const clean = tokens.map((t) => t.t).join(' ');

  const { codes: countries, unclear: unclearCountries } = findCountries(tokens);
  const platforms = findPlatforms(tokens);
  const counts = findCounts(tokens);

  // Intent
  const hasOrderVerb = ORDER_VERB.test(clean);
  const hasNumberNoun = tokens.some((t) => NUMBER_NOUNS.has(t.t) && t.role !== 'platform');
  const strongCounts = counts.filter((c) => c.strong);
  const isQuestion = QUESTION_WORDS.has(tokens[0]?.t ?? '');
  const orderSignal = hasOrderVerb || (!isQuestion && (hasNumberNoun || strongCounts.length > 0));

  let intent: AgentIntent | undefined;
  if (BALANCE.test(clean)) intent = 'balance';
  else if (AVAILABILITY_STRONG.test(clean)) intent = 'availability';
  else if (PRICES_STRONG.test(clean)) intent = 'prices';
  else if (AVAILABILITY_WEAK.test(clean)) intent = 'availability';
  else if (VERIFY_STRONG.test(clean)) intent = 'verify';
  else if (orderSignal) intent = VERIFY_WEAK.test(clean) && !hasNumberNoun && strongCounts.length === 0 ? 'verify' : 'order';
  else if (VERIFY_WEAK.test(clean) && (platforms.strong.length > 0 || platforms.weak.length > 0)) intent = 'verify';
  else if (PRICES_WEAK.test(clean)) intent = 'prices';

  if (intent === 'balance') return { understood: true, intent, interpretation: {} };

  const spends = intent === 'order' || intent === 'verify';
  if (UNSUPPORTED.test(clean)) {
    return fail('Cancelling, refunds and deposits are not available through the agent endpoint; use the orders API or `tn` for them.');
  }
  if (spends && NEGATION.test(clean)) return fail('The query says not to order; nothing was done.');
  if (!intent) {
    const close = closePlatforms(tokens);
    if (close.length > 0) {
      return fail(`Not understood. Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?`, close.map((c) => exampleQuery('order', c, {})));
    }
    const named = platforms.strong.length === 1 ? platforms.strong[0] : platforms.strong.length === 0 && platforms.weak.length === 1 ? platforms.weak[0] : undefined;
    const known: AgentInterpretation = countries.length === 1 ? { country: countries[0] } : {};
    return fail(
      'Not understood. Ask to order or verify a number for a platform, for prices, availability or your balance.',
      named ? (['order', 'prices', 'availability'] as const).map((i) => exampleQuery(i, named, known)) : AGENT_EXAMPLES,
    );
  }

  // Everything that is known so far, for suggestions.
  const interpretation: AgentInterpretation = {};
  const platformList = platforms.strong.length > 0 ? platforms.strong : platforms.weak;
  if (platformList.length === 1) interpretation.platform = platformList[0];
  if (countries.length === 1) interpretation.country = countries[0];
  if (price.micros !== undefined) interpretation.max_price = price.micros / MICROS_PER_USD;
  const considered = strongCounts.length > 0 ? strongCounts : spends ? counts : [];
  const values = [...new Set(considered.map((c) => c.value))];
  if (values.length === 1 && values[0]! >= 1 && values[0]! <= AGENT_MAX_BATCH) interpretation.quantity = values[0];

  if (spends && INFO_QUESTION.test(clean)) {
    return fail('This reads as a question, so nothing was ordered. To act, say what to do, for example "order 1 telegram number".', [
      exampleQuery('availability', interpretation.platform, interpretation),
      exampleQuery(intent, interpretation.platform, interpretation),
    ]);
  }
  if (price.problem) return fail(price.problem, [exampleQuery(intent, interpretation.platform, interpretation)]);
  if (spends && price.unqualified !== undefined) {
    const amount = price.unqualified;
    return fail(`Is "${amount}" the most to pay per number? Say "under ${amount} each" so nothing is bought at a price you did not mean.`, [
      exampleQuery(intent, interpretation.platform, interpretation),
    ]);
  }
  if (spends && price.micros === undefined && price.unexplainedCurrency) {
    return fail('Could not read the price: say "under $0.50" or "max 40 cents".', [
      exampleQuery(intent, interpretation.platform, { ...interpretation, max_price: 0.5 }),
    ]);
  }
  if (countries.length > 1) {
    const names = countries.map((c) => countryName(c) ?? c);
    return fail(
      `Several countries were mentioned (${names.join(', ')}): say one.`,
      countries.map((c) => exampleQuery(intent, interpretation.platform, { ...interpretation, country: c })),
    );
  }
  if (spends && countries.length === 0 && unclearCountries.length > 0) {
    const code = unclearCountries[0]!;
    return fail(`"${code}" at the end was read as an English word, not a country. To ask for ${countryName(code)}, name it.`, [
      exampleQuery(intent, interpretation.platform, { ...interpretation, country: code }),
      exampleQuery(intent, interpretation.platform, interpretation),
    ]);
  }

  // Quantity
  if (values.length > 1) {
    return fail(
      `Several quantities were mentioned (${values.join(', ')}): say how many numbers, once.`,
      values.filter((v) => v >= 1 && v <= AGENT_MAX_BATCH).map((v) => exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: v })),
    );
  }
  const quantity = values[0];
  if (quantity !== undefined) {
    if (quantity > AGENT_MAX_BATCH) {
      return fail(
        `A batch holds at most ${AGENT_MAX_BATCH} numbers; ${quantity > 1e6 ? 'far more' : quantity} were asked for. Ask for ${AGENT_MAX_BATCH} or fewer at a time.`,
        [exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: AGENT_MAX_BATCH })],
      );
    }
    if (quantity < 1) {
      return fail('The quantity must be a whole number from 1 to 20.', [exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: 1 })]);
    }
  }

  if (platformList.length > 1) {
    return fail(
      `Several platforms were mentioned (${platformList.join(', ')}): ask for one platform at a time.`,
      platformList.map((p) => exampleQuery(intent, p, interpretation)),
    );
  }

  if (spends) {
    if (!interpretation.platform) {
      const close = closePlatforms(tokens);
      if (close.length > 0) {
        return fail(
          `No known platform was named. Did you mean ${close.map((c) => `"${c}"`).join(' or ')}?`,
          close.map((c) => exampleQuery(intent, c, interpretation)),
        );
      }
      // No platform, but a country: the generic service is one known price there, so nothing is
      // guessed, unless a word read as the country could also be a platform ("in tw": Taiwan or Twitter?).
      if (interpretation.country !== undefined && !tokens.some((t) => platformOf(t.t) !== undefined)) interpretation.platform = GENERIC_PLATFORM;
      else {
        return fail(
          'Say which platform the number is for (for example whatsapp, telegram or instagram), or a country for a number for any other site; `tn services` lists them all.',
          ['whatsapp', 'telegram', 'instagram'].map((p) => exampleQuery(intent, p, interpretation)),
        );
      }
    }
    if (interpretation.quantity === undefined) {
      const plural = tokens.some((t, k) => PLURAL_NUMBER_NOUNS.has(t.t) && !['a', 'an', 'one'].includes(tokens[k - 1]?.t ?? ''));
      if (intent === 'order' && plural) {
        return fail('Say how many numbers (1 to 20), for example "3 telegram numbers".', [
          exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: 1 }),
          exampleQuery(intent, interpretation.platform, { ...interpretation, quantity: 3 }),
        ]);
      }
      interpretation.quantity = 1;
    }
  }

  // The same key order every time: platform, country, quantity, max_price.
  const ordered: AgentInterpretation = {};
  if (interpretation.platform !== undefined) ordered.platform = interpretation.platform;
  if (interpretation.country !== undefined) ordered.country = interpretation.country;
  if (interpretation.quantity !== undefined) ordered.quantity = interpretation.quantity;
  if (interpretation.max_price !== undefined) ordered.max_price = interpretation.max_price;
  const result: ParsedAgentQuery = { understood: true, intent, interpretation: ordered };
  if (price.micros !== undefined) result.maxPriceMicros = price.micros;
  return result;
}
