import { Box } from 'ink';
import { usd } from '../../format/index.js';
import { fitColumns, liftTime, scrollWindow, spread, tableLine, type Column } from '../format.js';
import type { Theme } from '../theme.js';
import { Line } from './Line.js';

export interface CountryOption {
  code: string;
  name: string;
  /** Numbers the broker has there for the platform under the cursor; null where it has none, undefined before it said. */
  stock?: number | null;
  yourPrice?: number | null;
  /** Until when the broker pauses new orders of the platform there (ISO), if it does. */
  pausedUntil?: string | null;
}

export interface CountryPickerProps {
  options: readonly CountryOption[];
  selected: number;
  query: string;
  current: string;
  /** The platform whose stock is shown, by name; null when there is none to show. */
  platformName: string | null;
  /** Whether the broker's stock for that platform is being read, has come, or could not be read (the status line says why). */
  stock: 'reading' | 'shown' | 'failed';
  now: number;
  width: number;
  height: number;
  theme: Theme;
}

/** The country for new orders: type to search, a list to choose from, with stock and price for the platform under the cursor. */
export function CountryPicker({ options, selected, query, current, platformName, stock, now, width, height, theme }: CountryPickerProps): React.JSX.Element {
  const listHeight = Math.max(0, height - 3);
  const { start, end } = scrollWindow(options.length, selected, listHeight);
  const withStock = platformName !== null && stock === 'shown';
  const note = (o: CountryOption): string =>
    (o.code === current ? ' (current)' : '') + (o.pausedUntil ? ` (paused until ${liftTime(o.pausedUntil, now)})` : '');
  const nameWidth = Math.max(10, width - 3 - 3 - 2 - (withStock ? 2 + 6 + 2 + 10 : 0));
  const all: Column<CountryOption>[] = [
    { title: '', width: 3, align: 'left', priority: 9, cell: (o) => o.code },
    { title: 'Country', width: nameWidth, align: 'left', priority: 9, cell: (o) => o.name + note(o) },
  ];
  if (withStock) {
    all.push(
      { title: 'Stock', width: 6, align: 'right', priority: 5, cell: (o) => (o.stock == null ? '–' : String(o.stock)) },
      { title: 'Your price', width: 10, align: 'right', priority: 4, cell: (o) => (o.yourPrice == null ? '' : usd(o.yourPrice)) },
    );
  }
  const columns = fitColumns(all, width - 3);
  let about = 'The broker says which countries have stock only when you order.';
  if (platformName !== null) {
    about = {
      shown: `${platformName} by country: stock and your price; countries with stock first.`,
      reading: `Reading ${platformName} stock by country…`,
      failed: `Could not read ${platformName} stock by country: Esc, then C tries again.`,
    }[stock];
  }
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line bold>{spread(` Country for new orders   Search: ${query}▏`, `${options.length} match${options.length === 1 ? '' : 'es'} `, width)}</Line>
      <Line dim={theme.dim}>{` ${about}`}</Line>
      <Line bold dim={theme.dim}>{'   ' + tableLine(columns, (c) => c.title)}</Line>
      {options.length === 0 ? (
        <Line>{`   No country matches "${query}".`}</Line>
      ) : (
        options.slice(start, end).map((o, i) => {
          const isSelected = start + i === selected;
          const unavailable = withStock && o.code !== 'any' && (!o.stock || !!o.pausedUntil);
          return (
            <Line key={o.code} bold={isSelected} color={isSelected ? theme.accent : undefined} dim={!isSelected && unavailable && theme.dim}>
              {(isSelected ? ' › ' : '   ') + tableLine(columns, (c) => c.cell(o))}
            </Line>
          );
        })
      )}
    </Box>
  );
}
