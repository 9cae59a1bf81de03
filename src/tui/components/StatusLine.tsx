import { Box, Text } from 'ink';
import type { Status } from '../status.js';
import type { Theme } from '../theme.js';
import { fit, wrapWords } from '../format.js';

export interface StatusLineProps {
  status: Status | null;
  width: number;
  theme: Theme;
}

/** Two lines at the bottom: what just happened and, for a failure, what to do next. */
export function StatusLine({ status, width, theme }: StatusLineProps): React.JSX.Element {
  const mark = status?.kind === 'error' ? '✗' : '·';
  const text = status ? `${mark} ${status.text}${status.next ? `  ${status.next}` : ''}` : '';
  const lines = wrapWords(text, Math.max(1, width - 2), 2);
  const color = status?.kind === 'error' ? theme.error : undefined;
  return (
    <Box flexDirection="column" width={width} height={2}>
      {[0, 1].map((i) => (
        <Text key={i} wrap="truncate-end" color={color} bold={status?.kind === 'error' && i === 0}>
          {` ${lines[i] ?? ''} `}
        </Text>
      ))}
    </Box>
  );
}

export function HintLine({ text, width, theme }: { text: string; width: number; theme: Theme }): React.JSX.Element {
  return (
    <Text wrap="truncate-end" dimColor={theme.dim} inverse={theme.color}>
      {fit(` ${text}`, width)}
    </Text>
  );
}
