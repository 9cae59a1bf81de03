import { Box } from 'ink';
import type { OrderPage } from '../../core/broker.js';
import { count, fitColumns, ORDER_COLUMNS, scrollWindow, spread, tableLine } from '../format.js';
import { statusColor, type Theme } from '../theme.js';
import { Line } from './Line.js';

export interface OrdersScreenProps {
  /** One page of the account's order history, as the broker sent it. */
  page: OrderPage | undefined;
  selected: number;
  /** The first read failed (the status line says why). */
  failed: boolean;
  width: number;
  height: number;
  theme: Theme;
}

/** The account's orders, newest first, a page at a time, with their states and codes. */
export function OrdersScreen({ page, selected, failed, width, height, theme }: OrdersScreenProps): React.JSX.Element {
  const columns = fitColumns(ORDER_COLUMNS, width - 3);
  const orders = page?.orders ?? [];
  const { start, end } = scrollWindow(orders.length, selected, Math.max(0, height - 2));
  const summary = page && page.total ? `page ${page.page} of ${Math.max(1, page.pages)}, ${count(page.total, 'order')} ` : '';
  let empty: string | undefined;
  if (failed && !page) empty = 'Could not read the orders: r tries again.';
  else if (!page) empty = 'Loading orders…';
  else if (!page.total) empty = 'No orders yet: s, then Enter on a platform, orders a number.';
  else if (!orders.length) empty = 'No orders on this page: p goes back.';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line>{spread(' Orders, newest first', summary, width)}</Line>
      <Line bold dim={theme.dim}>{'   ' + tableLine(columns, (c) => c.title)}</Line>
      {empty ? (
        <Line>{'   ' + empty}</Line>
      ) : (
        orders.slice(start, end).map((order, i) => {
          const isSelected = start + i === selected;
          return (
            <Line key={order.order_id} bold={isSelected} color={isSelected ? theme.accent : statusColor(theme, order.status)}>
              {(isSelected ? ' › ' : '   ') + tableLine(columns, (c) => c.cell(order))}
            </Line>
          );
        })
      )}
    </Box>
  );
}
