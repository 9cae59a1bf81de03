import { Box } from 'ink';
import type { AccountInfo, Usage } from '../../core/broker.js';
import { usd } from '../../format/index.js';
import { bar, countryShort, liftTime, tierProgress, weekday } from '../format.js';
import type { Theme } from '../theme.js';
import { Blank, Line } from './Line.js';

export interface AccountScreenProps {
  account: AccountInfo | undefined;
  usage: Usage | undefined;
  /** A platform's name from its id. */
  nameOf: (platform: string) => string;
  now: number;
  /** The first read failed (the status line says why). */
  failed: boolean;
  width: number;
  height: number;
  theme: Theme;
}

/**
 * Balance, tier and the way to the next one, where new orders are paused, and the last seven days
 * of spending, all as the broker reports them.
 */
export function AccountScreen({ account, usage, nameOf, now, failed, width, height, theme }: AccountScreenProps): React.JSX.Element {
  if (!account) {
    return (
      <Box flexDirection="column" width={width} height={height}>
        <Line>{failed ? ' Could not read the account: r tries again.' : ' Loading the account…'}</Line>
      </Box>
    );
  }
  const barWidth = Math.max(10, Math.min(40, width - 30));
  const progress = tierProgress(account);
  const next = account.next_tier;
  const s = account.stats;
  const days = usage?.daily ?? [];
  const week = days.reduce((n, d) => n + d.spent, 0);
  const weekOrders = days.reduce((n, d) => n + d.orders, 0);
  const most = Math.max(0, ...days.map((d) => d.spent));
  const guards = account.delivery_guards;
  // The rest of the screen takes 16 lines; the pauses get what is left, at least one.
  const room = Math.max(1, height - 16);
  const shown = guards && guards.length > room ? guards.slice(0, room - 1) : (guards ?? []);
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line>{` Account   ${account.account_id}${account.sandbox ? '  (local sandbox)' : ''}`}</Line>
      <Line bold>{` Balance   ${usd(account.balance)}`}</Line>
      <Line>{` Tier      ${account.tier}${account.discount_percent ? `, ${account.discount_percent}% off every order` : ', list prices'}`}</Line>
      <Line>
        {next
          ? ` Next      ${next.tier} after ${next.orders_needed} more completed order${next.orders_needed === 1 ? '' : 's'}`
          : ' Next      none: this is the top tier'}
      </Line>
      <Line color={theme.accent}>
        {`           ${bar(progress ?? 1, barWidth)}  ${account.completed_orders}${next ? ` / ${account.completed_orders + next.orders_needed}` : ''} completed`}
      </Line>
      <Line>{` Orders    ${s.orders} in all: ${s.completed} completed, ${s.cancelled} cancelled, ${s.expired} expired, ${s.failed} failed`}</Line>
      <Line>{` Spent     ${usd(s.spent)} in all`}</Line>
      {guards && !guards.length && <Line dim={theme.dim}> Paused    nowhere: new orders go through in every country</Line>}
      {shown.map((g, i) => (
        <Line key={`${g.platform}/${g.country}`} color={theme.warn}>
          {`${i ? '          ' : ' Paused   '} ${nameOf(g.platform)} in ${countryShort(g.country)} until ${liftTime(g.lifts_at, now)}, ${g.delivered} of ${g.ended} ended got an SMS`}
        </Line>
      ))}
      {guards && shown.length < guards.length && <Line color={theme.warn}>{`           and ${guards.length - shown.length} more`}</Line>}
      <Blank />
      <Line bold>{usage ? ` This week ${usd(week)} on ${weekOrders} order${weekOrders === 1 ? '' : 's'} (last 7 days, UTC)` : ' This week …'}</Line>
      {days.map((d) => (
        <Line key={d.date} dim={theme.dim && d.spent === 0}>
          {`   ${weekday(d.date)} ${d.date.slice(5)}  ${bar(most ? d.spent / most : 0, 20)}  ${usd(d.spent).padStart(7)}  ${d.orders} order${d.orders === 1 ? '' : 's'}`}
        </Line>
      ))}
    </Box>
  );
}
