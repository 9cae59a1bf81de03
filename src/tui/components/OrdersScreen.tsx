import { Box } from 'ink';
import type { Order } from '../../core/order.js';
import { fitColumns, ORDER_COLUMNS, scrollWindow, spread, tableLine } from '../format.js';
import { statusColor, type Theme } from '../theme.js';
import { Line } from './Line.js';

export interface OrdersScreenProps {
  orders: readonly Order[];
  selected: number;
  loaded: boolean;
  /** The first read failed (the status line says why). */
  failed: boolean;
  width: number;
  height: number;
  theme: Theme;
}

/** The recent orders with their states and codes. */
export function OrdersScreen({ orders, selected, loaded, failed, width, height, theme }: OrdersScreenProps): React.JSX.Element {
  const columns = fitColumns(ORDER_COLUMNS, width - 3);
  const { start, end } = scrollWindow(orders.length, selected, Math.max(0, height - 2));
  const waiting = orders.filter((o) => o.status === 'active').length;
  const summary = orders.length ? `${orders.length} recent${waiting ? `, ${waiting} waiting` : ''} ` : '';
  let empty: string | undefined;
  if (failed && !orders.length) empty = 'Could not read the orders: r tries again.';
  else if (!loaded) empty = 'Loading orders…';
  else if (!orders.length) empty = 'No orders yet: s, then Enter on a platform, orders a number.';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line>{spread(' Recent orders, newest first', summary, width)}</Line>
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
