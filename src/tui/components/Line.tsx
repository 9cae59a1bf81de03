import { Text } from 'ink';

export interface LineProps {
  children?: string;
  color?: string | undefined;
  bold?: boolean;
  dim?: boolean;
  inverse?: boolean;
}

/** One line of text, cut (never wrapped) at the edge so that no screen ever grows. */
export function Line({ children, color, bold, dim, inverse }: LineProps): React.JSX.Element {
  return (
    <Text wrap="truncate-end" color={color} bold={bold} dimColor={dim} inverse={inverse}>
      {children === undefined || children === '' ? ' ' : children}
    </Text>
  );
}

/** `n` empty lines. */
export function Blank({ lines = 1 }: { lines?: number }): React.JSX.Element {
  return <Text>{Array.from({ length: lines }, () => ' ').join('\n')}</Text>;
}
