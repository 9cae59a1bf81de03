import { TnError } from '../errors.js';

/**
 * Every officially assigned ISO 3166-1 alpha-2 code (249) with a short English name. Names are
 * the everyday short forms ("South Korea", "Russia", "Vietnam"); the formal ISO spellings
 * ("Korea, Republic of", "Russian Federation", "Viet Nam") are accepted as aliases by `findCountry`.
 */
export const COUNTRIES: readonly { readonly code: string; readonly name: string }[] = [
  { code: 'ad', name: 'Andorra' },
  { code: 'ae', name: 'United Arab Emirates' },
  { code: 'af', name: 'Afghanistan' },
  { code: 'ag', name: 'Antigua and Barbuda' },
  { code: 'ai', name: 'Anguilla' },
  { code: 'al', name: 'Albania' },
  { code: 'am', name: 'Armenia' },
  { code: 'ao', name: 'Angola' },
  { code: 'aq', name: 'Antarctica' },
  { code: 'ar', name: 'Argentina' },
  { code: 'as', name: 'American Samoa' },
  { code: 'at', name: 'Austria' },
  { code: 'au', name: 'Australia' },
  { code: 'aw', name: 'Aruba' },
  { code: 'ax', name: 'Åland Islands' },
  { code: 'az', name: 'Azerbaijan' },
  { code: 'ba', name: 'Bosnia and Herzegovina' },
  { code: 'bb', name: 'Barbados' },
  { code: 'bd', name: 'Bangladesh' },
  { code: 'be', name: 'Belgium' },
  { code: 'bf', name: 'Burkina Faso' },
  { code: 'bg', name: 'Bulgaria' },
  { code: 'bh', name: 'Bahrain' },
  { code: 'bi', name: 'Burundi' },
  { code: 'bj', name: 'Benin' },
  { code: 'bl', name: 'Saint Barthélemy' },
  { code: 'bm', name: 'Bermuda' },
  { code: 'bn', name: 'Brunei' },
  { code: 'bo', name: 'Bolivia' },
  { code: 'bq', name: 'Caribbean Netherlands' },
  { code: 'br', name: 'Brazil' },
  { code: 'bs', name: 'Bahamas' },
  { code: 'bt', name: 'Bhutan' },
  { code: 'bv', name: 'Bouvet Island' },
  { code: 'bw', name: 'Botswana' },
  { code: 'by', name: 'Belarus' },
  { code: 'bz', name: 'Belize' },
  { code: 'ca', name: 'Canada' },
  { code: 'cc', name: 'Cocos (Keeling) Islands' },
  { code: 'cd', name: 'Democratic Republic of the Congo' },
  { code: 'cf', name: 'Central African Republic' },
  { code: 'cg', name: 'Congo' },
  { code: 'ch', name: 'Switzerland' },
  { code: 'ci', name: "Côte d'Ivoire" },
  { code: 'ck', name: 'Cook Islands' },
  { code: 'cl', name: 'Chile' },
  { code: 'cm', name: 'Cameroon' },
  { code: 'cn', name: 'China' },
  { code: 'co', name: 'Colombia' },
  { code: 'cr', name: 'Costa Rica' },
  { code: 'cu', name: 'Cuba' },
  { code: 'cv', name: 'Cabo Verde' },
  { code: 'cw', name: 'Curaçao' },
  { code: 'cx', name: 'Christmas Island' },
  { code: 'cy', name: 'Cyprus' },
  { code: 'cz', name: 'Czechia' },
  { code: 'de', name: 'Germany' },
  { code: 'dj', name: 'Djibouti' },
  { code: 'dk', name: 'Denmark' },
  { code: 'dm', name: 'Dominica' },
  { code: 'do', name: 'Dominican Republic' },
  { code: 'dz', name: 'Algeria' },
  { code: 'ec', name: 'Ecuador' },
  { code: 'ee', name: 'Estonia' },
  { code: 'eg', name: 'Egypt' },
  { code: 'eh', name: 'Western Sahara' },
  { code: 'er', name: 'Eritrea' },
  { code: 'es', name: 'Spain' },
  { code: 'et', name: 'Ethiopia' },
  { code: 'fi', name: 'Finland' },
  { code: 'fj', name: 'Fiji' },
  { code: 'fk', name: 'Falkland Islands' },
  { code: 'fm', name: 'Micronesia' },
  { code: 'fo', name: 'Faroe Islands' },
  { code: 'fr', name: 'France' },
  { code: 'ga', name: 'Gabon' },
  { code: 'gb', name: 'United Kingdom' },
  { code: 'gd', name: 'Grenada' },
  { code: 'ge', name: 'Georgia' },
  { code: 'gf', name: 'French Guiana' },
  { code: 'gg', name: 'Guernsey' },
  { code: 'gh', name: 'Ghana' },
  { code: 'gi', name: 'Gibraltar' },
  { code: 'gl', name: 'Greenland' },
  { code: 'gm', name: 'Gambia' },
  { code: 'gn', name: 'Guinea' },
  { code: 'gp', name: 'Guadeloupe' },
  { code: 'gq', name: 'Equatorial Guinea' },
  { code: 'gr', name: 'Greece' },
  { code: 'gs', name: 'South Georgia and the South Sandwich Islands' },
  { code: 'gt', name: 'Guatemala' },
  { code: 'gu', name: 'Guam' },
  { code: 'gw', name: 'Guinea-Bissau' },
  { code: 'gy', name: 'Guyana' },
  { code: 'hk', name: 'Hong Kong' },
  { code: 'hm', name: 'Heard Island and McDonald Islands' },
  { code: 'hn', name: 'Honduras' },
  { code: 'hr', name: 'Croatia' },
  { code: 'ht', name: 'Haiti' },
  { code: 'hu', name: 'Hungary' },
  { code: 'id', name: 'Indonesia' },
  { code: 'ie', name: 'Ireland' },
  { code: 'il', name: 'Israel' },
  { code: 'im', name: 'Isle of Man' },
  { code: 'in', name: 'India' },
  { code: 'io', name: 'British Indian Ocean Territory' },
  { code: 'iq', name: 'Iraq' },
  { code: 'ir', name: 'Iran' },
  { code: 'is', name: 'Iceland' },
  { code: 'it', name: 'Italy' },
  { code: 'je', name: 'Jersey' },
  { code: 'jm', name: 'Jamaica' },
  { code: 'jo', name: 'Jordan' },
  { code: 'jp', name: 'Japan' },
  { code: 'ke', name: 'Kenya' },
  { code: 'kg', name: 'Kyrgyzstan' },
  { code: 'kh', name: 'Cambodia' },
  { code: 'ki', name: 'Kiribati' },
  { code: 'km', name: 'Comoros' },
  { code: 'kn', name: 'Saint Kitts and Nevis' },
  { code: 'kp', name: 'North Korea' },
  { code: 'kr', name: 'South Korea' },
  { code: 'kw', name: 'Kuwait' },
  { code: 'ky', name: 'Cayman Islands' },
  { code: 'kz', name: 'Kazakhstan' },
  { code: 'la', name: 'Laos' },
  { code: 'lb', name: 'Lebanon' },
  { code: 'lc', name: 'Saint Lucia' },
  { code: 'li', name: 'Liechtenstein' },
  { code: 'lk', name: 'Sri Lanka' },
  { code: 'lr', name: 'Liberia' },
  { code: 'ls', name: 'Lesotho' },
  { code: 'lt', name: 'Lithuania' },
  { code: 'lu', name: 'Luxembourg' },
  { code: 'lv', name: 'Latvia' },
  { code: 'ly', name: 'Libya' },
  { code: 'ma', name: 'Morocco' },
  { code: 'mc', name: 'Monaco' },
  { code: 'md', name: 'Moldova' },
  { code: 'me', name: 'Montenegro' },
  { code: 'mf', name: 'Saint Martin (French part)' },
  { code: 'mg', name: 'Madagascar' },
  { code: 'mh', name: 'Marshall Islands' },
  { code: 'mk', name: 'North Macedonia' },
  { code: 'ml', name: 'Mali' },
  { code: 'mm', name: 'Myanmar' },
  { code: 'mn', name: 'Mongolia' },
  { code: 'mo', name: 'Macao' },
  { code: 'mp', name: 'Northern Mariana Islands' },
  { code: 'mq', name: 'Martinique' },
  { code: 'mr', name: 'Mauritania' },
  { code: 'ms', name: 'Montserrat' },
  { code: 'mt', name: 'Malta' },
  { code: 'mu', name: 'Mauritius' },
  { code: 'mv', name: 'Maldives' },
  { code: 'mw', name: 'Malawi' },
  { code: 'mx', name: 'Mexico' },
  { code: 'my', name: 'Malaysia' },
  { code: 'mz', name: 'Mozambique' },
  { code: 'na', name: 'Namibia' },
  { code: 'nc', name: 'New Caledonia' },
  { code: 'ne', name: 'Niger' },
  { code: 'nf', name: 'Norfolk Island' },
  { code: 'ng', name: 'Nigeria' },
  { code: 'ni', name: 'Nicaragua' },
  { code: 'nl', name: 'Netherlands' },
  { code: 'no', name: 'Norway' },
  { code: 'np', name: 'Nepal' },
  { code: 'nr', name: 'Nauru' },
  { code: 'nu', name: 'Niue' },
  { code: 'nz', name: 'New Zealand' },
  { code: 'om', name: 'Oman' },
  { code: 'pa', name: 'Panama' },
  { code: 'pe', name: 'Peru' },
  { code: 'pf', name: 'French Polynesia' },
  { code: 'pg', name: 'Papua New Guinea' },
  { code: 'ph', name: 'Philippines' },
  { code: 'pk', name: 'Pakistan' },
  { code: 'pl', name: 'Poland' },
  { code: 'pm', name: 'Saint Pierre and Miquelon' },
  { code: 'pn', name: 'Pitcairn' },
  { code: 'pr', name: 'Puerto Rico' },
  { code: 'ps', name: 'Palestine' },
  { code: 'pt', name: 'Portugal' },
  { code: 'pw', name: 'Palau' },
  { code: 'py', name: 'Paraguay' },
  { code: 'qa', name: 'Qatar' },
  { code: 're', name: 'Réunion' },
  { code: 'ro', name: 'Romania' },
  { code: 'rs', name: 'Serbia' },
  { code: 'ru', name: 'Russia' },
  { code: 'rw', name: 'Rwanda' },
  { code: 'sa', name: 'Saudi Arabia' },
  { code: 'sb', name: 'Solomon Islands' },
  { code: 'sc', name: 'Seychelles' },
  { code: 'sd', name: 'Sudan' },
  { code: 'se', name: 'Sweden' },
  { code: 'sg', name: 'Singapore' },
  { code: 'sh', name: 'Saint Helena, Ascension and Tristan da Cunha' },
  { code: 'si', name: 'Slovenia' },
  { code: 'sj', name: 'Svalbard and Jan Mayen' },
  { code: 'sk', name: 'Slovakia' },
  { code: 'sl', name: 'Sierra Leone' },
  { code: 'sm', name: 'San Marino' },
  { code: 'sn', name: 'Senegal' },
  { code: 'so', name: 'Somalia' },
  { code: 'sr', name: 'Suriname' },
  { code: 'ss', name: 'South Sudan' },
  { code: 'st', name: 'Sao Tome and Principe' },
  { code: 'sv', name: 'El Salvador' },
  { code: 'sx', name: 'Sint Maarten (Dutch part)' },
  { code: 'sy', name: 'Syria' },
  { code: 'sz', name: 'Eswatini' },
  { code: 'tc', name: 'Turks and Caicos Islands' },
  { code: 'td', name: 'Chad' },
  { code: 'tf', name: 'French Southern Territories' },
  { code: 'tg', name: 'Togo' },
  { code: 'th', name: 'Thailand' },
  { code: 'tj', name: 'Tajikistan' },
  { code: 'tk', name: 'Tokelau' },
  { code: 'tl', name: 'Timor-Leste' },
  { code: 'tm', name: 'Turkmenistan' },
  { code: 'tn', name: 'Tunisia' },
  { code: 'to', name: 'Tonga' },
  { code: 'tr', name: 'Türkiye' },
  { code: 'tt', name: 'Trinidad and Tobago' },
  { code: 'tv', name: 'Tuvalu' },
  { code: 'tw', name: 'Taiwan' },
  { code: 'tz', name: 'Tanzania' },
  { code: 'ua', name: 'Ukraine' },
  { code: 'ug', name: 'Uganda' },
  { code: 'um', name: 'United States Minor Outlying Islands' },
  { code: 'us', name: 'United States' },
  { code: 'uy', name: 'Uruguay' },
  { code: 'uz', name: 'Uzbekistan' },
  { code: 'va', name: 'Vatican City' },
  { code: 'vc', name: 'Saint Vincent and the Grenadines' },
  { code: 've', name: 'Venezuela' },
  { code: 'vg', name: 'British Virgin Islands' },
  { code: 'vi', name: 'United States Virgin Islands' },
  { code: 'vn', name: 'Vietnam' },
  { code: 'vu', name: 'Vanuatu' },
  { code: 'wf', name: 'Wallis and Futuna' },
  { code: 'ws', name: 'Samoa' },
  { code: 'ye', name: 'Yemen' },
  { code: 'yt', name: 'Mayotte' },
  { code: 'za', name: 'South Africa' },
  { code: 'zm', name: 'Zambia' },
  { code: 'zw', name: 'Zimbabwe' },
];

/**
 * Other names people type: the ISO formal names, former names, nicknames, constituent countries.
 * Keys are written as `normaliseCountryText` leaves them (lower case, no accents, no punctuation).
 */
export const COUNTRY_ALIASES: Readonly<Record<string, string>> = {
  // United Kingdom
  uk: 'gb',
  'u k': 'gb',
  britain: 'gb',
  'great britain': 'gb',
  england: 'gb',
  scotland: 'gb',
  wales: 'gb',
  'northern ireland': 'gb',
  'united kingdom of great britain and northern ireland': 'gb',
  // United States
  usa: 'us',
  'u s': 'us',
  'u s a': 'us',
  america: 'us',
  'united states of america': 'us',
  'the us': 'us',
  'the usa': 'us',
  'the states': 'us',
  'us virgin islands': 'vi',
  'virgin islands us': 'vi',
  'virgin islands british': 'vg',
  'us minor outlying islands': 'um',
  // Formal and former names
  'russian federation': 'ru',
  korea: 'kr',
  'republic of korea': 'kr',
  'korea republic of': 'kr',
  'democratic peoples republic of korea': 'kp',
  'korea democratic peoples republic of': 'kp',
  dprk: 'kp',
  uae: 'ae',
  emirates: 'ae',
  holland: 'nl',
  'the netherlands': 'nl',
  'kingdom of the netherlands': 'nl',
  'bonaire sint eustatius and saba': 'bq',
  bonaire: 'bq',
  'czech republic': 'cz',
  'viet nam': 'vn',
  'viet nam socialist republic of': 'vn',
  turkey: 'tr',
  turkiye: 'tr',
  'ivory coast': 'ci',
  'cote divoire': 'ci',
  deutschland: 'de',
  espana: 'es',
  'cape verde': 'cv',
  'east timor': 'tl',
  swaziland: 'sz',
  burma: 'mm',
  macedonia: 'mk',
  'republic of north macedonia': 'mk',
  'the former yugoslav republic of macedonia': 'mk',
  'holy see': 'va',
  vatican: 'va',
  'vatican city state': 'va',
  'brunei darussalam': 'bn',
  'iran islamic republic of': 'ir',
  'islamic republic of iran': 'ir',
  'syrian arab republic': 'sy',
  'lao peoples democratic republic': 'la',
  'lao pdr': 'la',
  'moldova republic of': 'md',
  'republic of moldova': 'md',
  'tanzania united republic of': 'tz',
  'united republic of tanzania': 'tz',
  'venezuela bolivarian republic of': 've',
  'bolivia plurinational state of': 'bo',
  'micronesia federated states of': 'fm',
  'federated states of micronesia': 'fm',
  'palestine state of': 'ps',
  'state of palestine': 'ps',
  'palestinian territories': 'ps',
  'taiwan province of china': 'tw',
  'hong kong sar': 'hk',
  'hong kong sar china': 'hk',
  macau: 'mo',
  'macao sar china': 'mo',
  'congo democratic republic of the': 'cd',
  'dr congo': 'cd',
  drc: 'cd',
  'congo kinshasa': 'cd',
  'republic of the congo': 'cg',
  'congo brazzaville': 'cg',
  'the gambia': 'gm',
  'the bahamas': 'bs',
  'falkland islands malvinas': 'fk',
  'pitcairn islands': 'pn',
  'saint helena': 'sh',
  'st helena': 'sh',
  'saint martin': 'mf',
  'sint maarten': 'sx',
  'cocos islands': 'cc',
  'keeling islands': 'cc',
  aland: 'ax',
  faroes: 'fo',
  'sao tome': 'st',
  trinidad: 'tt',
  bosnia: 'ba',
  antigua: 'ag',
  'saint kitts': 'kn',
  'st kitts': 'kn',
  'st lucia': 'lc',
  'st vincent': 'vc',
  'saint vincent': 'vc',
  'st barthelemy': 'bl',
  'st barts': 'bl',
  'st pierre and miquelon': 'pm',
  'st martin': 'mf',
  'st vincent and the grenadines': 'vc',
  'st kitts and nevis': 'kn',
  ksa: 'sa',
  'south africa republic of': 'za',
  rsa: 'za',
  'new zealand aotearoa': 'nz',
  aotearoa: 'nz',
  // The spellings ICU (Intl.DisplayNames) uses, so its names round-trip.
  'myanmar burma': 'mm',
  'us outlying islands': 'um',
  'heard and mcdonald islands': 'hm',
  'south georgia and south sandwich islands': 'gs',
  'south georgia': 'gs',
  'st vincent and grenadines': 'vc',
  'saint vincent and grenadines': 'vc',
};

/** Nationality adjectives of the commonest countries: "a British number", "German numbers". */
export const COUNTRY_DEMONYMS: Readonly<Record<string, string>> = {
  american: 'us',
  british: 'gb',
  brit: 'gb',
  english: 'gb',
  scottish: 'gb',
  welsh: 'gb',
  irish: 'ie',
  german: 'de',
  french: 'fr',
  spanish: 'es',
  italian: 'it',
  dutch: 'nl',
  belgian: 'be',
  swiss: 'ch',
  austrian: 'at',
  swedish: 'se',
  norwegian: 'no',
  danish: 'dk',
  finnish: 'fi',
  polish: 'pl',
  czech: 'cz',
  slovak: 'sk',
  hungarian: 'hu',
  romanian: 'ro',
  bulgarian: 'bg',
  greek: 'gr',
  portuguese: 'pt',
  russian: 'ru',
  ukrainian: 'ua',
  belarusian: 'by',
  estonian: 'ee',
  latvian: 'lv',
  lithuanian: 'lt',
  croatian: 'hr',
  serbian: 'rs',
  georgian: 'ge',
  turkish: 'tr',
  israeli: 'il',
  indian: 'in',
  pakistani: 'pk',
  bangladeshi: 'bd',
  indonesian: 'id',
  malaysian: 'my',
  filipino: 'ph',
  philippine: 'ph',
  thai: 'th',
  vietnamese: 'vn',
  chinese: 'cn',
  taiwanese: 'tw',
  japanese: 'jp',
  korean: 'kr',
  'south korean': 'kr',
  'north korean': 'kp',
  singaporean: 'sg',
  australian: 'au',
  canadian: 'ca',
  mexican: 'mx',
  brazilian: 'br',
  argentine: 'ar',
  argentinian: 'ar',
  argentinean: 'ar',
  colombian: 'co',
  chilean: 'cl',
  peruvian: 'pe',
  venezuelan: 've',
  nigerian: 'ng',
  kenyan: 'ke',
  ghanaian: 'gh',
  'south african': 'za',
  egyptian: 'eg',
  moroccan: 'ma',
  saudi: 'sa',
  emirati: 'ae',
  iranian: 'ir',
  iraqi: 'iq',
  kazakh: 'kz',
  kazakhstani: 'kz',
  uzbek: 'uz',
};

/**
 * Control, formatting (bidirectional overrides, zero-width), separator, private-use and lone
 * surrogate characters: none belongs in a name, and stripping them would let "insta\u0000gram" or
 * "\u202einstagram" pass as "instagram" while logs and terminals show something else.
 */
const HIDDEN_CHARACTER = /[\p{Cc}\p{Cf}\p{Zl}\p{Zp}\p{Co}\p{Cs}]/u;

/** The first hidden character of `text` as `U+XXXX`, or null when it has none. */
export function hiddenCharacter(text: string): string | null {
  const m = HIDDEN_CHARACTER.exec(text);
  return m ? `U+${m[0].codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}` : null;
}

/** Throws `invalid_request` naming the parameter when `text` holds a hidden character (issue 20 §5). */
export function refuseHiddenCharacters(parameter: string, text: string): void {
  const hidden = hiddenCharacter(text);
  if (hidden) throw new TnError('invalid_request', `Parameter "${parameter}" contains the control or invisible character ${hidden}: names are refused, not cleaned.`);
}

/**
 * Lower case, accents and apostrophes dropped, dotted initials joined ("U.S." → "us"), "&" spelled
 * out, any other punctuation a single space. A leading "the" is kept: some aliases need it.
 */
export function normaliseCountryText(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/\p{M}+/gu, '')
    .toLowerCase()
    .replace(/&/g, ' and ')
    .replace(/['’`ʼ]/g, '')
    // U.S.A. → usa, U.K. → uk
    .replace(/\b([a-z])\.(?=[a-z]\b)/g, '$1')
    .replace(/[^a-z0-9]+/g, ' ')
    .trim();
}

const NAME_BY_CODE = new Map<string, string>();
const CODE_BY_TEXT = new Map<string, string>();

for (const { code, name } of COUNTRIES) {
  NAME_BY_CODE.set(code, name);
  CODE_BY_TEXT.set(code, code);
}
for (const { code, name } of COUNTRIES) CODE_BY_TEXT.set(normaliseCountryText(name), code);
for (const [alias, code] of Object.entries(COUNTRY_ALIASES)) CODE_BY_TEXT.set(alias, code);
for (const [demonym, code] of Object.entries(COUNTRY_DEMONYMS)) {
  if (!CODE_BY_TEXT.has(demonym)) CODE_BY_TEXT.set(demonym, code);
}

/**
 * Finds a country by ISO code (any case), English name, common alias ("uk", "holland", "the
 * states") or nationality adjective ("german"). Returns the lower-case ISO code.
 */
export function findCountry(text: string): string | undefined {
  if (typeof text !== 'string' || text.length > 200 || hiddenCharacter(text)) return undefined;
  const norm = normaliseCountryText(text);
  if (norm === '') return undefined;
  const direct = CODE_BY_TEXT.get(norm) ?? CODE_BY_TEXT.get(norm.replace(/^st /, 'saint '));
  if (direct) return direct;
  // "the Philippines", "the Czech Republic".
  const bare = norm.replace(/^the /, '');
  const found = CODE_BY_TEXT.get(bare) ?? CODE_BY_TEXT.get(bare.replace(/^st /, 'saint '));
  if (found) return found;
  // "Americans", "Germans": plural demonyms only, so "ins" never becomes India.
  return bare.endsWith('s') ? COUNTRY_DEMONYMS[bare.slice(0, -1)] : undefined;
}

export function countryName(code: string): string | undefined {
  return typeof code === 'string' ? NAME_BY_CODE.get(code.trim().toLowerCase()) : undefined;
}

/** `'any'` when no country was asked for, else the ISO code; throws `unknown_country` otherwise. */
export function requireCountry(text: unknown): string {
  if (text === undefined || text === null) return 'any';
  if (typeof text !== 'string') {
    throw new TnError('invalid_request', 'Parameter "country" must be a string: an ISO 3166-1 alpha-2 code such as "us", or "any".');
  }
  // Before the trim, which would drop a BOM or a line separator unseen.
  refuseHiddenCharacters('country', text);
  const trimmed = text.trim();
  if (trimmed === '' || trimmed.toLowerCase() === 'any') return 'any';
  const found = findCountry(trimmed);
  if (!found) {
    throw new TnError(
      'unknown_country',
      `Unknown country "${trimmed.slice(0, 64)}". Use an ISO 3166-1 alpha-2 code such as "us" or "gb".`,
    );
  }
  return found;
}

/** Phrases (normalised, words separated by one space) that name a country, for scanning free text. */
export function countryPhrases(): ReadonlyMap<string, string> {
  return CODE_BY_TEXT;
}
