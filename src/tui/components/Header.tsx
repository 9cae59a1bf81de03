import { Box, Text } from 'ink';
import type { AccountInfo } from '../../core/broker.js';
import { usd } from '../../format/index.js';
import { fit } from '../format.js';
import type { Theme } from '../theme.js';

export type Tab = 'services' | 'orders' | 'account';

const TABS: readonly (readonly [Tab, string])[] = [
  ['services', 'Services'],
  ['orders', 'Orders'],
  ['account', 'Account'],
];

export interface HeaderProps {
  tab: Tab | null;
  endpoint: string;
  account: AccountInfo | undefined;
  width: number;
  theme: Theme;
}

/** The top line: the screens (the current one in brackets), then the endpoint, balance and tier; a rule below. */
export function Header({ tab, endpoint, account, width, theme }: HeaderProps): React.JSX.Element {
  const labels = TABS.map(([id, label], i) => (i ? ' ' : '') + (id === tab ? `[${label}]` : ` ${label} `));
  const used = ' tn  '.length + labels.join('').length;
  const facts = account ? `${endpoint} · ${usd(account.balance)} · ${account.tier}` : endpoint;
  const right = fit(facts, Math.min(Math.max(0, width - used - 2), facts.length));
  return (
    <Box flexDirection="column" width={width}>
      <Box width={width}>
        <Text bold color={theme.accent}>
          {' tn  '}
        </Text>
        {TABS.map(([id], i) => (
          <Text key={id} bold={id === tab} color={id === tab ? theme.accent : undefined}>
            {labels[i]}
          </Text>
        ))}
        <Box flexGrow={1} />
        <Text dimColor={theme.dim}>{right + ' '}</Text>
      </Box>
      <Text dimColor={theme.dim}>{'─'.repeat(width)}</Text>
    </Box>
  );
}
