import type { Order } from '../core/orders/order.js';

/** Every key of the app, in one place: the help screen and the hint line both read it. */
export interface KeySection {
  title: string;
  keys: readonly (readonly [keys: string, what: string])[];
}

export const HELP: readonly KeySection[] = [
  {
    title: 'Everywhere',
    keys: [
      ['s  o  a', 'Services, Orders, Account'],
      ['r', 'reload the screen (on an order: another code)'],
      ['?', 'this help (any key closes it)'],
      ['q  Ctrl-C', 'quit; an order still waiting stays open on the broker'],
    ],
  },
  {
    title: 'Services',
    keys: [
      ['↑ ↓  j k', 'move (PgUp PgDn, Home End or g G: by page, to the ends)'],
      ['/', 'filter: type; Enter keeps it, Esc clears it'],
      ['C', 'choose the country for new orders and the prices shown'],
      ['Enter', 'order a number for the platform'],
    ],
  },
  {
    title: 'Order',
    keys: [
      ['c', 'cancel the order and show the refund'],
      ['r', 'another code on the same number'],
      ['y  p', 'copy the code, copy the phone (OSC 52, works over SSH)'],
      ['Esc', 'back'],
    ],
  },
  {
    title: 'Orders',
    keys: [
      ['↑ ↓  Enter', 'move, open the order'],
      ['n p', 'next, previous page of your orders (also PgDn PgUp)'],
    ],
  },
];

/**
 * The order screen's hint line, with only the keys that do something for this order now: cancel
 * while it waits, another code and copying the code once it has one, nothing of either once it ended.
 */
export function orderHint(order: Pick<Order, 'status' | 'code' | 'expires_at'>, now: number): string {
  const keys: string[] = [];
  if (order.status === 'active') keys.push('c cancel');
  if (order.status === 'completed' && Date.parse(order.expires_at) > now) keys.push('r another code');
  if (order.code) keys.push('y copy code');
  if (order.status === 'active' || order.status === 'completed') keys.push('p copy phone');
  keys.push('Esc back', '? help');
  return keys.join('  ');
}

export type HintMode = 'services' | 'filter' | 'order' | 'orders' | 'account' | 'help' | 'country';

export const HINTS: Readonly<Record<HintMode, string>> = {
  services: 'Enter order  / filter  C country  o orders  a account  ? help  q quit',
  filter: 'type to filter  Enter keep  Esc clear  ↑↓ move',
  order: 'c cancel  r another code  y copy code  p copy phone  Esc back  ? help',
  orders: '↑↓ move  n p page  Enter open  r reload  Esc back  ? help  q quit',
  account: 'r reload  s services  o orders  Esc back  ? help  q quit',
  help: 'any key closes the help',
  country: 'type to search  ↑↓ move  Enter choose  Esc cancel',
};
