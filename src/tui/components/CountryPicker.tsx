import { Box } from 'ink';
import { fit, scrollWindow, spread } from '../format.js';
import type { Theme } from '../theme.js';
import { Line } from './Line.js';

export interface CountryOption {
  code: string;
  name: string;
}

export interface CountryPickerProps {
  options: readonly CountryOption[];
  selected: number;
  query: string;
  current: string;
  width: number;
  height: number;
  theme: Theme;
}

/** The country for new orders: type to search, a list to choose from. */
export function CountryPicker({ options, selected, query, current, width, height, theme }: CountryPickerProps): React.JSX.Element {
  const { start, end } = scrollWindow(options.length, selected, Math.max(0, height - 2));
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line bold>{spread(` Country for new orders   Search: ${query}▏`, `${options.length} match${options.length === 1 ? '' : 'es'} `, width)}</Line>
      <Line dim={theme.dim}> The broker says which countries have stock only when you order.</Line>
      {options.length === 0 ? (
        <Line>{`   No country matches "${query}".`}</Line>
      ) : (
        options.slice(start, end).map((o, i) => {
          const isSelected = start + i === selected;
          const mark = o.code === current ? ' (current)' : '';
          return (
            <Line key={o.code} bold={isSelected} color={isSelected ? theme.accent : undefined}>
              {(isSelected ? ' › ' : '   ') + fit(o.code === 'any' ? 'any' : o.code, 5) + o.name + mark}
            </Line>
          );
        })
      )}
    </Box>
  );
}
