import type { Key } from 'ink';
import type { Order } from '../core/orders/order.js';
import { clamp, filterRows, type ServiceRow } from './format.js';
import { countryOptions, type CountryFacts } from './pickers.js';

/**
 * What the keys do, as a pure function from the app's screen state and a key to the next state and
 * the commands to carry out. Keys are handled one at a time even when the terminal delivers several
 * at once (typing fast, pasting, tmux send-keys), so `/insta⏎` always filters, then keeps the filter.
 */

export type View = 'services' | 'orders' | 'account' | 'order';
export type Overlay = 'help' | 'country' | null;

export interface UiState {
  view: View;
  /** Where Esc on the order view goes. */
  back: View;
  overlay: Overlay;
  filter: string;
  filtering: boolean;
  serviceCursor: number;
  /** The page of the order history shown (from 1) and the row on it. */
  ordersPage: number;
  orderCursor: number;
  country: string;
  countryQuery: string;
  countryCursor: number;
  /** The platform under the cursor when the country picker opened: the picker shows its stock. */
  countryPlatform: string | null;
}

export const initialUi = (country = 'any'): UiState => ({
  view: 'services',
  back: 'services',
  overlay: null,
  filter: '',
  filtering: false,
  serviceCursor: 0,
  ordersPage: 1,
  orderCursor: 0,
  country,
  countryQuery: '',
  countryCursor: 0,
  countryPlatform: null,
});

export type Command =
  | { type: 'quit' }
  | { type: 'order'; row: ServiceRow }
  | { type: 'open'; order: Order }
  | { type: 'cancel' }
  | { type: 'retry' }
  | { type: 'copy'; what: 'code' | 'phone' }
  | { type: 'reload'; what: 'services' | 'account' | 'orders' }
  | { type: 'country'; code: string }
  | { type: 'clearStatus' };

/** What the keys need to know of the data on screen. */
export interface KeyContext {
  rows: readonly ServiceRow[];
  /** The orders on the page of the history shown. */
  orders: readonly Order[];
  /** How many pages the order history has (0 without orders). */
  orderPages: number;
  /** Rows a page holds (PgUp/PgDn). */
  page: number;
  /** The broker's stock by country for the platform of the country picker, once read. */
  countryFacts: CountryFacts | null;
}

export interface KeyResult {
  state: UiState;
  commands: Command[];
}

/**
 * Moves to another screen: Orders and Account are read again on the way in. Orders opens on its
 * first page (the newest orders), except on the way back from an order opened there.
 */
export function goTo(state: UiState, view: View): KeyResult {
  const commands: Command[] = [];
  if (view === 'orders' || view === 'account') commands.push({ type: 'reload', what: view });
  if (view !== state.view) commands.push({ type: 'clearStatus' });
  const back = view === 'order' ? (state.view === 'order' ? state.back : state.view) : state.back;
  const returning = state.view === 'orders' || (state.view === 'order' && state.back === 'orders');
  const first = view === 'orders' && !returning ? { ordersPage: 1, orderCursor: 0 } : {};
  return { state: { ...state, ...first, view, back, overlay: null }, commands };
}

/** The next state for one key. */
export function reduceKey(state: UiState, input: string, key: Key, ctx: KeyContext): KeyResult {
  const same = (s: UiState = state, commands: Command[] = []): KeyResult => ({ state: s, commands });
  if (key.ctrl && input === 'c') return same(state, [{ type: 'quit' }]);
  if (state.overlay === 'help') return same({ ...state, overlay: null });
  if (state.overlay === 'country') return countryKey(state, input, key, ctx);
  if (state.view === 'services' && state.filtering) return filterKey(state, input, key, ctx);

  if (input === 'q') return same(state, [{ type: 'quit' }]);
  if (input === '?') return same({ ...state, overlay: 'help' });
  if (input === 's') return goTo(state, 'services');
  if (input === 'o') return goTo(state, 'orders');
  if (input === 'a') return goTo(state, 'account');

  switch (state.view) {
    case 'services': {
      const rows = filterRows(ctx.rows, state.filter);
      const index = clamp(state.serviceCursor, 0, rows.length - 1);
      const moved = listMove(input, key, index, rows.length, ctx.page);
      if (moved !== null) return same({ ...state, serviceCursor: moved });
      if (input === '/') return same({ ...state, filtering: true });
      if (input === 'C') {
        return same({ ...state, overlay: 'country', countryQuery: '', countryCursor: 0, countryPlatform: rows[index]?.platform ?? null });
      }
      if (input === 'r') return same(state, [{ type: 'reload', what: 'services' }]);
      if (key.escape && state.filter) return same({ ...state, filter: '', serviceCursor: 0 });
      const row = rows[index];
      if (key.return && row) return same(state, [{ type: 'order', row }]);
      return same();
    }
    case 'order':
      if (key.escape) return goTo(state, state.back);
      if (input === 'c') return same(state, [{ type: 'cancel' }]);
      if (input === 'r') return same(state, [{ type: 'retry' }]);
      if (input === 'y') return same(state, [{ type: 'copy', what: 'code' }]);
      if (input === 'p') return same(state, [{ type: 'copy', what: 'phone' }]);
      return same();
    case 'orders': {
      const index = clamp(state.orderCursor, 0, ctx.orders.length - 1);
      // A page of the history fills the screen: PgDn and PgUp turn pages, and at either end move to the last or first row.
      const next = input === 'n' || key.pageDown;
      const previous = input === 'p' || key.pageUp;
      if (next && state.ordersPage < ctx.orderPages) return same({ ...state, ordersPage: state.ordersPage + 1, orderCursor: 0 });
      if (previous && state.ordersPage > 1) return same({ ...state, ordersPage: state.ordersPage - 1, orderCursor: 0 });
      if (input === 'n' || input === 'p') return same();
      const moved = listMove(input, key, index, ctx.orders.length, ctx.page);
      if (moved !== null) return same({ ...state, orderCursor: moved });
      if (input === 'r') return same(state, [{ type: 'reload', what: 'orders' }]);
      if (key.escape) return goTo(state, 'services');
      const order = ctx.orders[index];
      if (key.return && order) {
        const opened = goTo(state, 'order');
        return { state: opened.state, commands: [{ type: 'open', order }, ...opened.commands] };
      }
      return same();
    }
    case 'account':
      if (input === 'r') return same(state, [{ type: 'reload', what: 'account' }]);
      if (key.escape) return goTo(state, 'services');
      return same();
  }
}

function filterKey(state: UiState, input: string, key: Key, ctx: KeyContext): KeyResult {
  if (key.return) return { state: { ...state, filtering: false }, commands: [] };
  if (key.escape) return { state: { ...state, filtering: false, filter: '', serviceCursor: 0 }, commands: [] };
  if (erasing(key)) return { state: { ...state, filter: state.filter.slice(0, -1), serviceCursor: 0 }, commands: [] };
  const rows = filterRows(ctx.rows, state.filter);
  const moved = listMove(input, key, clamp(state.serviceCursor, 0, rows.length - 1), rows.length, ctx.page, false);
  if (moved !== null) return { state: { ...state, serviceCursor: moved }, commands: [] };
  const text = typed(input, key);
  if (text !== null) return { state: { ...state, filter: state.filter + text, serviceCursor: 0 }, commands: [] };
  return { state, commands: [] };
}

function countryKey(state: UiState, input: string, key: Key, ctx: KeyContext): KeyResult {
  if (key.escape) return { state: { ...state, overlay: null }, commands: [] };
  const options = countryOptions(state.countryQuery, ctx.countryFacts);
  const index = clamp(state.countryCursor, 0, options.length - 1);
  if (key.return) {
    const chosen = options[index];
    if (!chosen) return { state, commands: [] };
    return { state: { ...state, overlay: null, country: chosen.code }, commands: [{ type: 'country', code: chosen.code }] };
  }
  if (erasing(key)) return { state: { ...state, countryQuery: state.countryQuery.slice(0, -1), countryCursor: 0 }, commands: [] };
  const moved = listMove(input, key, index, options.length, ctx.page, false);
  if (moved !== null) return { state: { ...state, countryCursor: moved }, commands: [] };
  const text = typed(input, key);
  if (text !== null) return { state: { ...state, countryQuery: state.countryQuery + text, countryCursor: 0 }, commands: [] };
  return { state, commands: [] };
}

/** The new position in a list of `length` rows after a movement key, or null if the key is not one. */
export function listMove(input: string, key: Key, index: number, length: number, page: number, letters = true): number | null {
  const last = Math.max(0, length - 1);
  if (key.upArrow || (letters && input === 'k')) return clamp(index - 1, 0, last);
  if (key.downArrow || (letters && input === 'j')) return clamp(index + 1, 0, last);
  if (key.pageUp) return clamp(index - Math.max(1, page), 0, last);
  if (key.pageDown) return clamp(index + Math.max(1, page), 0, last);
  if (key.home || (letters && input === 'g')) return 0;
  if (key.end || (letters && input === 'G')) return last;
  return null;
}

/** Text typed into a search field, or null for a key that is not typing (arrows, Enter, Esc, control keys). */
export function typed(input: string, key: Key): string | null {
  if (key.ctrl || key.meta || key.return || key.escape || key.tab || key.upArrow || key.downArrow || key.leftArrow || key.rightArrow) return null;
  if (key.pageUp || key.pageDown || key.home || key.end || erasing(key)) return null;
  // eslint-disable-next-line no-control-regex
  const text = input.replace(/[\u0000-\u001f\u007f]/g, '');
  return text === '' ? null : text;
}

/** Backspace (many terminals send it as Delete). */
export const erasing = (key: Key): boolean => key.backspace || key.delete;

const NO_KEY: Key = {
  upArrow: false,
  downArrow: false,
  leftArrow: false,
  rightArrow: false,
  pageDown: false,
  pageUp: false,
  home: false,
  end: false,
  return: false,
  escape: false,
  ctrl: false,
  shift: false,
  tab: false,
  backspace: false,
  delete: false,
  meta: false,
  super: false,
  hyper: false,
  capsLock: false,
  numLock: false,
};

/**
 * One input event as single keys. Ink hands over plain text that arrived together as one string
 * (`/insta\r` from a paste or a fast typist); each character is a key of its own here.
 */
export function splitKeys(input: string, key: Key): [string, Key][] {
  // Esc and a letter close together read as Alt+letter; the app has no Alt keys, so they are the two keys.
  if (key.meta && !key.escape && !key.ctrl && [...input].length === 1 && typed(input, { ...key, meta: false }) !== null) {
    return [
      ['', { ...NO_KEY, escape: true, meta: true }],
      [input, { ...NO_KEY, shift: input !== input.toLowerCase() }],
    ];
  }
  if (input.length <= 1 || key.ctrl || key.meta || key.escape) return [[input, key]];
  return [...input].map((ch): [string, Key] => {
    if (ch === '\r' || ch === '\n') return ['', { ...NO_KEY, return: true }];
    if (ch === '\u007f' || ch === '\b') return ['', { ...NO_KEY, backspace: true }];
    if (ch === '\t') return ['', { ...NO_KEY, tab: true }];
    if (ch === '\u0003') return ['c', { ...NO_KEY, ctrl: true }];
    return [ch, { ...NO_KEY, shift: ch !== ch.toLowerCase() }];
  });
}
