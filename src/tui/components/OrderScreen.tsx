import { Box } from 'ink';
import type { Order } from '../../core/orders/order.js';
import { usd } from '../../format/index.js';
import { countryLabel, orderState, spread } from '../format.js';
import { statusColor, type Theme } from '../theme.js';
import { BigText } from './BigText.js';
import { Blank, Line } from './Line.js';

export interface OrderScreenProps {
  order: Order;
  platformName: string;
  now: number;
  width: number;
  height: number;
  theme: Theme;
}

/**
 * One order: the phone large, its live state with the time left, and the code large once it has
 * come; the phone and the code also in plain text. Every part keeps its line, so nothing jumps.
 */
export function OrderScreen({ order, platformName, now, width, height, theme }: OrderScreenProps): React.JSX.Element {
  const title = ` ${platformName} · ${countryLabel(order.country)} · ${usd(order.price)}`;
  const earlier = order.codes.slice(0, -1);
  const waiting = order.status === 'active';
  // The large phone needs 16 lines in all, the large code 12: on a short terminal they give way, the plain text stays.
  const bigPhone = height >= 16;
  const bigCode = height >= 12;
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line bold>{spread(title, order.order_id + ' ', width)}</Line>
      <Blank />
      {bigPhone && <BigText text={order.phone} width={width - 1} />}
      {bigPhone && <Blank />}
      <Line>{` Phone    ${order.phone}`}</Line>
      <Line color={statusColor(theme, order.status)} bold>
        {` Status   ${orderState(order, now)}`}
      </Line>
      <Blank />
      {bigCode && (order.code ? <BigText text={order.code} width={width - 1} color={theme.ok} /> : <Blank lines={3} />)}
      {bigCode && <Blank />}
      <Line bold={!!order.code}>{` Code     ${order.code ?? (waiting ? 'waiting…' : '–')}`}</Line>
      <Line dim={theme.dim}>{` SMS      ${order.sms ? order.sms.replace(/\s+/g, ' ') : '–'}`}</Line>
      <Line dim={theme.dim}>{earlier.length ? ` Earlier  ${earlier.join(', ')}` : ' '}</Line>
    </Box>
  );
}
