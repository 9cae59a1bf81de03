import { useCallback, useMemo, useRef, useState } from 'react';
import { Box, useApp, useInput, useStdout, type Key } from 'ink';
import type { AccountInfo, Broker, Usage } from '../core/broker.js';
import type { Order } from '../core/order.js';
import { usd } from '../cli/output.js';
import { osc52 } from './clipboard.js';
import { AccountScreen } from './components/AccountScreen.js';
import { CountryPicker } from './components/CountryPicker.js';
import { Header } from './components/Header.js';
import { HelpScreen } from './components/HelpScreen.js';
import { OrderScreen } from './components/OrderScreen.js';
import { OrdersScreen } from './components/OrdersScreen.js';
import { ServicesScreen } from './components/ServicesScreen.js';
import { HintLine, StatusLine } from './components/StatusLine.js';
import { clamp, countryLabel, filterRows, mergeOrders, serviceRows, type ServiceRow } from './format.js';
import { useNow, useOrderUpdates, useResource, useTerminalSize } from './hooks.js';
import { HINTS, type HintMode } from './keys.js';
import { goTo, initialUi, reduceKey, splitKeys, type Command, type UiState } from './keymap.js';
import { countryOptions } from './pickers.js';
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

  const services = useResource<ServiceRow[]>(async () => {
    const [list, availability] = await Promise.all([broker.services(), broker.availability()]);
    return serviceRows(list, availability);
  }, report);
  const account = useResource<[AccountInfo, Usage]>(() => Promise.all([broker.account(), broker.usage(7)]), report);
  const names = useRef(new Map<string, string>());
  for (const row of services.data ?? []) names.current.set(row.platform, row.name);
  const nameOf = (platform: string): string => names.current.get(platform) ?? platform;

  const [sessionOrders, setSessionOrders] = useState<Order[]>([]);
  const orders = useMemo(() => mergeOrders(account.data?.[0].recent_orders ?? [], sessionOrders), [account.data, sessionOrders]);
  const visible = useMemo(() => filterRows(services.data ?? [], ui.filter), [services.data, ui.filter]);
  const countryList = useMemo(() => countryOptions(ui.countryQuery), [ui.countryQuery]);

  // The order on the order view, followed live even while another screen is shown.
  const [current, setCurrent] = useState<Order | null>(null);
  const currentRef = useRef(current);
  currentRef.current = current;
  const noteOrder = useCallback(
    (order: Order) => {
      session.note(order);
      setSessionOrders(session.list());
    },
    [session],
  );
  const { reload: reloadAccount } = account;
  const { reload: reloadServices } = services;
  const onOrderChange = useCallback(
    (order: Order) => {
      noteOrder(order);
      setCurrent((c) => (c && c.order_id === order.order_id ? order : c));
      if (order.status !== 'active') {
        setStatus(endedStatus(order, names.current.get(order.platform) ?? order.platform));
        reloadAccount();
        reloadServices();
      }
    },
    [noteOrder, reloadAccount, reloadServices],
  );
  useOrderUpdates(broker, current, onOrderChange, report);
  const now = useNow(ui.view === 'order' && current?.status === 'active');

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
        return command.what === 'services' ? reloadServices() : reloadAccount();
      case 'country':
        return setStatus(info(`New orders go to ${countryLabel(command.code)}.`));
      case 'open':
        return setCurrent(command.order);
      case 'order': {
        const { row } = command;
        const where = uiRef.current.country;
        return act(`Ordering a ${row.name} number (${countryLabel(where)})…`, async () => {
          const placed = await broker.order({ platform: row.platform, country: where });
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

  // The key handler is subscribed once and reads what it needs from this render through a ref:
  // Ink re-subscribes a changed handler only after React's passive effects run, and a key pressed
  // in between would otherwise meet the data of an older render.
  const latest = useRef({ rows: services.data ?? [], orders, page: bodyHeight - 2, run });
  latest.current = { rows: services.data ?? [], orders, page: bodyHeight - 2, run };
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
        orders={orders}
        selected={clamp(ui.orderCursor, 0, orders.length - 1)}
        loaded={account.data !== undefined}
        failed={account.settled && !account.data}
        width={width}
        height={bodyHeight}
        theme={theme}
      />
    );
  } else if (ui.view === 'account') {
    body = <AccountScreen account={account.data?.[0]} usage={account.data?.[1]} failed={account.settled && !account.data} width={width} height={bodyHeight} theme={theme} />;
  } else {
    body = (
      <ServicesScreen
        rows={visible}
        selected={clamp(ui.serviceCursor, 0, visible.length - 1)}
        filter={ui.filter}
        filtering={ui.filtering}
        country={ui.country}
        loaded={services.data !== undefined}
        failed={services.settled && !services.data}
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
      <HintLine text={HINTS[hint]} width={width} theme={theme} />
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
