import { Box } from 'ink';
import { HELP } from '../keys.js';
import { fit } from '../format.js';
import type { Theme } from '../theme.js';
import { Line } from './Line.js';

/** Every key, by screen. */
export function HelpScreen({ width, height, theme }: { width: number; height: number; theme: Theme }): React.JSX.Element {
  const lines: { text: string; title: boolean }[] = [];
  for (const section of HELP) {
    lines.push({ text: ` ${section.title}`, title: true });
    for (const [keys, what] of section.keys) lines.push({ text: `   ${fit(keys, 11)}${what}`, title: false });
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      {lines.slice(0, height).map((l, i) => (
        <Line key={i} bold={l.title} color={l.title ? theme.accent : undefined}>
          {l.text}
        </Line>
      ))}
    </Box>
  );
}
