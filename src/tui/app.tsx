import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { Box, useApp, useInput, useStdout, type Key } from 'ink';
import type { AccountInfo, Broker, OrderPage, PriceList, Usage } from '../core/broker.js';
import { isTnError, type TnError } from '../core/errors.js';
import type { Order } from '../core/orders/order.js';
import { usd } from '../format/index.js';
import { osc52 } from './clipboard.js';
import { AccountScreen } from './components/AccountScreen.js';
import { CountryPicker } from './components/CountryPicker.js';
import { Header } from './components/Header.js';
import { HelpScreen } from './components/HelpScreen.js';
import { OrderScreen } from './components/OrderScreen.js';
import { OrdersScreen } from './components/OrdersScreen.js';
import { ServicesScreen } from './components/ServicesScreen.js';
import { HintLine, StatusLine } from './components/StatusLine.js';
import { clamp, countryLabel, filterRows, serviceRows } from './format.js';
import { useNow, useOrderUpdates, useResource, useTerminalSize } from './hooks.js';
import { HINTS, orderHint, type HintMode } from './keys.js';
import { goTo, initialUi, reduceKey, splitKeys, type Command, type UiState } from './keymap.js';
import { countryFacts, countryOptions, otherCountries, type CountryFacts } from './pickers.js';
import { Session } from './session.js';
import { errorStatus, info, type Status } from './status.js';
import { themeFor } from './theme.js';

export interface AppProps {
  broker: Broker;
  /** False with NO_COLOR, --no-color, or no terminal. */
  color: boolean;
  /** The country for new orders at start (`any`, or an ISO code). */
  country?: string;
  /** Where the orders of this run are noted, for the exit notice. */
  session?: Session;
  /** Puts text on the clipboard; by default an OSC 52 sequence on stdout. */
  copy?: (text: string) => void;
}

/** Lines around the body: the header and its rule, two status lines, the key hints. */
const CHROME_LINES = 5;

/**
 * The terminal app. Data comes from a few hooks around the broker, the keys from a pure key map,
 * and the screens are pure components given what to draw. Every failure lands in the status line
 * and the app carries on.
 */
export function App({ broker, color, country = 'any', session: givenSession, copy }: AppProps): React.JSX.Element {
  const { exit } = useApp();
  const { stdout } = useStdout();
  const { columns, rows } = useTerminalSize();
  // One line spare: a frame as tall as the terminal makes Ink clear the whole screen on every update.
  const width = Math.max(20, columns);
  const height = Math.max(CHROME_LINES + 3, rows - 1);
  const bodyHeight = height - CHROME_LINES;
  const theme = useMemo(() => themeFor(color), [color]);
  const session = useMemo(() => givenSession ?? new Session(), [givenSession]);

  // Screen state: a ref for the key map (several keys can arrive in one event), mirrored for rendering.
  const uiRef = useRef<UiState>(initialUi(country));
  const [ui, setUiState] = useState<UiState>(uiRef.current);
  const setUi = useCallback((next: UiState) => {
    uiRef.current = next;
    setUiState(next);
  }, []);
  const [status, setStatus] = useState<Status | null>(null);
  const report = useCallback((err: unknown) => setStatus(errorStatus(err, broker.endpoint)), [broker]);

  const catalogue = useResource(() => Promise.all([broker.services(), broker.availability()]), report);
  const account = useResource<[AccountInfo, Usage]>(() => Promise.all([broker.account(), broker.usage(7)]), report);
  // With a country chosen, its prices and stock take the place of the list prices and total stock.
  const inCountry = useResource<PriceList>(() => broker.prices({ by: 'service', country: uiRef.current.country }), report, {
    key: ui.country,
    active: ui.country !== 'any',
  });
  const countryPrices = ui.country !== 'any' && inCountry.current ? inCountry.data : undefined;
  const countryState = ui.country === 'any' || countryPrices ? null : inCountry.failed ? 'failed' : 'reading';
  const serviceData = useMemo(
    () => (catalogue.data ? serviceRows(catalogue.data[0], catalogue.data[1], countryPrices) : undefined),
    [catalogue.data, countryPrices],
  );
  const names = useRef(new Map<string, string>());
  for (const row of serviceData ?? []) names.current.set(row.platform, row.name);
  const nameOf = useCallback((platform: string): string => names.current.get(platform) ?? platform, []);

  // The order history, a page that fills the screen at a time, read while the Orders screen is shown.
  const orderLimit = clamp(bodyHeight - 2, 1, 100);
  const orders = useResource<OrderPage>(() => broker.orders({ page: uiRef.current.ordersPage, limit: orderLimit }), report, {
    key: `${ui.ordersPage}/${orderLimit}`,
    active: ui.view === 'orders',
  });
  const pageOrders = useMemo(() => orders.data?.orders ?? [], [orders.data]);

  // The country picker: the stock by country of the platform under the cursor, and where its orders are paused.
  const stock = useResource<PriceList>(() => broker.prices({ by: 'country', platform: uiRef.current.countryPlatform ?? '' }), report, {
    key: ui.countryPlatform ?? '',
    active: ui.overlay === 'country' && ui.countryPlatform !== null,
  });
  const stockList = ui.countryPlatform !== null && stock.current ? stock.data : undefined;
  const facts = useMemo(() => (stockList ? countryFacts(stockList, account.data?.[0].delivery_guards) : null), [stockList, account.data]);
  const visible = useMemo(() => filterRows(serviceData ?? [], ui.filter), [serviceData, ui.filter]);
  const countryList = useMemo(() => countryOptions(ui.countryQuery, facts), [ui.countryQuery, facts]);
  useKeepCountry(facts, uiRef, setUi);

  // The order on the order view, followed live even while another screen is shown.
  const [current, setCurrent] = useState<Order | null>(null);
  const currentRef = useRef(current);
  currentRef.current = current;
  const noteOrder = useCallback((order: Order) => session.note(order), [session]);
  const { reload: reloadCatalogue } = catalogue;
  const { reload: reloadCountry } = inCountry;
  const { reload: reloadOrders } = orders;
  const { reload: reloadAccountOnly } = account;
  /** Balance, tier and the order history change with every order. */
  const reloadAccount = useCallback(() => {
    reloadAccountOnly();
    reloadOrders();
  }, [reloadAccountOnly, reloadOrders]);
  /** Stock changes with every order. */
  const reloadServices = useCallback(() => {
    reloadCatalogue();
    reloadCountry();
  }, [reloadCatalogue, reloadCountry]);
  const onOrderChange = useCallback(
    (order: Order) => {
      noteOrder(order);
      setCurrent((c) => (c && c.order_id === order.order_id ? order : c));
      if (order.status !== 'active') {
        setStatus(endedStatus(order, nameOf(order.platform)));
        reloadAccount();
        reloadServices();
      }
    },
    [noteOrder, nameOf, reloadAccount, reloadServices],
  );
  useOrderUpdates(broker, current, onOrderChange, report);
  const now = useNow(ui.view === 'order' && current?.status === 'active');

  // A page past the end (the terminal grew, so pages hold more): the last page instead.
  useEffect(() => {
    const p = orders.data;
    if (p && p.pages > 0 && p.page > p.pages && uiRef.current.ordersPage === p.page) setUi({ ...uiRef.current, ordersPage: p.pages, orderCursor: 0 });
  }, [orders.data, setUi]);

  /** One broker action at a time; its failure goes to the status line. */
  const busy = useRef(false);
  const act = (pending: string, action: () => Promise<void>): void => {
    if (busy.current) return;
    busy.current = true;
    setStatus(info(pending));
    action()
      .catch(report)
      .finally(() => (busy.current = false));
  };

  const run = (command: Command): void => {
    const order = currentRef.current;
    switch (command.type) {
      case 'quit':
        return exit();
      case 'clearStatus':
        return setStatus(null);
      case 'reload':
        if (command.what === 'services') return reloadServices();
        return command.what === 'orders' ? reloadOrders() : reloadAccountOnly();
      case 'country':
        return setStatus(info(`New orders go to ${countryLabel(command.code)}${command.code === 'any' ? '' : '; the table shows the prices and stock there'}.`));
      case 'open':
        return setCurrent(command.order);
      case 'order': {
        const { row } = command;
        const where = uiRef.current.country;
        return act(`Ordering a ${row.name} number (${countryLabel(where)})…`, async () => {
          let placed: Order;
          try {
            placed = await broker.order({ platform: row.platform, country: where });
          } catch (err) {
            if (!isTnError(err) || err.code !== 'delivery_rate_low') throw err;
            setStatus(await pausedStatus(err));
            reloadAccountOnly(); // the Account screen lists the pause
            return;
          }
          noteOrder(placed);
          setCurrent(placed);
          setUi(goTo(uiRef.current, 'order').state);
          setStatus(info(`${row.name} number ${placed.phone} for ${usd(placed.price)}: waiting for the SMS.`));
          reloadAccount();
          reloadServices();
        });
      }
      case 'cancel':
        if (!order) return;
        return act(`Cancelling order ${order.order_id}…`, async () => {
          const ended = await broker.cancel(order.order_id);
          noteOrder(ended);
          setCurrent(ended);
          setStatus(endedStatus(ended, nameOf(ended.platform)));
          reloadAccount();
          reloadServices();
        });
      case 'retry':
        if (!order) return;
        return act(`Asking for another code on ${order.phone}…`, async () => {
          const again = await broker.retry(order.order_id);
          noteOrder(again);
          setCurrent(again);
          setStatus(info(`Waiting for another code on ${again.phone}.`));
        });
      case 'copy': {
        if (!order) return;
        const text = command.what === 'code' ? order.code : order.phone;
        if (!text) return setStatus(info('No code yet: y copies it once it comes; p copies the phone.'));
        (copy ?? ((t: string) => void stdout.write(osc52(t))))(text);
        return setStatus(info(`Copied the ${command.what} ${text} (OSC 52: your terminal puts it on the clipboard).`));
      }
    }
  };

  /** `delivery_rate_low` with a country to order in instead: one with stock where the broker does not pause the platform. */
  const pausedStatus = async (err: TnError): Promise<Status> => {
    const { platform, country } = err.details;
    let alternatives: string[] | undefined;
    if (typeof platform === 'string' && typeof country === 'string') {
      try {
        const [list, fresh] = await Promise.all([broker.prices({ by: 'country', platform }), broker.account()]);
        alternatives = otherCountries(countryFacts(list, fresh.delivery_guards), country);
      } catch {
        alternatives = undefined; // the status line still says what happened, without a suggestion
      }
    }
    return errorStatus(err, broker.endpoint, { nameOf, alternatives });
  };

  // The key handler is subscribed once and reads what it needs from this render through a ref:
  // Ink re-subscribes a changed handler only after React's passive effects run, and a key pressed
  // in between would otherwise meet the data of an older render.
  const keyContext = { rows: serviceData ?? [], orders: pageOrders, orderPages: orders.data?.pages ?? 0, page: bodyHeight - 2, countryFacts: facts };
  const latest = useRef({ ...keyContext, run });
  latest.current = { ...keyContext, run };
  const onInput = useCallback(
    (input: string, key: Key) => {
      const { run: runCommand, ...ctx } = latest.current;
      let state = uiRef.current;
      const commands: Command[] = [];
      for (const [i, k] of splitKeys(input, key)) {
        const result = reduceKey(state, i, k, ctx);
        state = result.state;
        commands.push(...result.commands);
        if (result.commands.some((c) => c.type === 'quit')) break;
      }
      if (state !== uiRef.current) setUi(state);
      for (const command of commands) runCommand(command);
    },
    [setUi],
  );
  useInput(onInput);

  const hint: HintMode = ui.overlay ?? (ui.view === 'services' && ui.filtering ? 'filter' : ui.view);
  let body: React.JSX.Element;
  if (ui.overlay === 'help') body = <HelpScreen width={width} height={bodyHeight} theme={theme} />;
  else if (ui.overlay === 'country') {
    body = (
      <CountryPicker
        options={countryList}
        selected={clamp(ui.countryCursor, 0, countryList.length - 1)}
        query={ui.countryQuery}
        current={ui.country}
        platformName={ui.countryPlatform === null ? null : nameOf(ui.countryPlatform)}
        stock={facts ? 'shown' : stock.failed ? 'failed' : 'reading'}
        now={Date.now()}
        width={width}
        height={bodyHeight}
        theme={theme}
      />
    );
  } else if (ui.view === 'order' && current) {
    body = <OrderScreen order={current} platformName={nameOf(current.platform)} now={now} width={width} height={bodyHeight} theme={theme} />;
  } else if (ui.view === 'orders') {
    body = (
      <OrdersScreen
        page={orders.data}
        selected={clamp(ui.orderCursor, 0, pageOrders.length - 1)}
        failed={orders.settled && !orders.data}
        width={width}
        height={bodyHeight}
        theme={theme}
      />
    );
  } else if (ui.view === 'account') {
    body = (
      <AccountScreen
        account={account.data?.[0]}
        usage={account.data?.[1]}
        nameOf={nameOf}
        now={Date.now()}
        failed={account.settled && !account.data}
        width={width}
        height={bodyHeight}
        theme={theme}
      />
    );
  } else {
    body = (
      <ServicesScreen
        rows={visible}
        selected={clamp(ui.serviceCursor, 0, visible.length - 1)}
        filter={ui.filter}
        filtering={ui.filtering}
        country={ui.country}
        countryPrices={countryState}
        loaded={serviceData !== undefined}
        failed={catalogue.settled && !catalogue.data}
        width={width}
        height={bodyHeight}
        theme={theme}
      />
    );
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Header tab={ui.view === 'order' ? null : ui.view} endpoint={broker.endpoint} account={account.data?.[0]} width={width} theme={theme} />
      <Box height={bodyHeight} overflow="hidden" flexDirection="column">
        {body}
      </Box>
      <StatusLine status={status} width={width} theme={theme} />
      <HintLine text={hint === 'order' && current ? orderHint(current, now) : HINTS[hint]} width={width} theme={theme} />
    </Box>
  );
}

/** What the status line says when an order ends. */
function endedStatus(order: Order, name: string): Status {
  const refund = order.refunded ? `: ${usd(order.price)} refunded to your balance` : '';
  switch (order.status) {
    case 'completed':
      return info(`${name} code ${order.code ?? ''} arrived on ${order.phone}. y copies it.`);
    case 'cancelled':
      return info(`Order cancelled${refund}.`);
    case 'expired':
      return info(`No code came before the order expired${refund}.`);
    case 'failed':
      return info(`The order failed${refund}.`);
    default:
      return info(`Order ${order.order_id} is ${order.status}.`);
  }
}

/**
 * Keeps the picker's cursor on the same country when the stock comes and the list reorders (the
 * countries with stock move first).
 */
function useKeepCountry(facts: CountryFacts | null, uiRef: React.RefObject<UiState>, setUi: (next: UiState) => void): void {
  const shown = useRef(facts);
  useEffect(() => {
    const before = shown.current;
    shown.current = facts;
    const ui = uiRef.current;
    if (before === facts || ui.overlay !== 'country') return;
    const code = countryOptions(ui.countryQuery, before)[ui.countryCursor]?.code;
    const index = countryOptions(ui.countryQuery, facts).findIndex((o) => o.code === code);
    if (index >= 0 && index !== ui.countryCursor) setUi({ ...ui, countryCursor: index });
  }, [facts, uiRef, setUi]);
}
