import { Box, Text } from 'ink';
import { bigText, bigWidth } from '../bigtext.js';

/**
 * `text` three lines tall when it fits in `width`, else in plain bold letters on the middle line;
 * always three lines, so the screen does not move. Hidden from screen readers, which read the
 * plain-text line beside it.
 */
export function BigText({ text, width, color }: { text: string; width: number; color?: string | undefined }): React.JSX.Element {
  const big = bigWidth(text) + 1 <= width ? bigText(text) : null;
  const lines = big ?? [' ', text, ' '];
  return (
    <Box flexDirection="column" height={3} aria-hidden>
      {lines.map((line, i) => (
        <Text key={i} wrap="truncate-end" color={color} bold>
          {' ' + line}
        </Text>
      ))}
    </Box>
  );
}
