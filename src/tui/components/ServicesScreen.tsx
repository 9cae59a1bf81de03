import { Box } from 'ink';
import { countryLabel, fitColumns, scrollWindow, SERVICE_COLUMNS, spread, tableLine, type ServiceRow } from '../format.js';
import type { Theme } from '../theme.js';
import { Line } from './Line.js';

export interface ServicesScreenProps {
  /** The rows the filter leaves. */
  rows: readonly ServiceRow[];
  selected: number;
  filter: string;
  filtering: boolean;
  country: string;
  /**
   * A country is chosen and its prices and stock are being read, or could not be (the status line
   * says why): the rows show the list prices and total stock meanwhile. Null otherwise.
   */
  countryPrices: 'reading' | 'failed' | null;
  loaded: boolean;
  /** The first read failed (the status line says why). */
  failed: boolean;
  width: number;
  height: number;
  theme: Theme;
}

const COUNTRY_NOTE = { reading: ' (reading its prices…)', failed: ' (list prices: r reads its own)', none: '' } as const;

/**
 * Platforms with price, your price after the tier discount, success rate, stock and median delivery;
 * with a country chosen, the price, your price and stock there.
 */
export function ServicesScreen({ rows, selected, filter, filtering, country, countryPrices, loaded, failed, width, height, theme }: ServicesScreenProps): React.JSX.Element {
  const columns = fitColumns(SERVICE_COLUMNS, width - 3);
  const listHeight = Math.max(0, height - 2);
  const { start, end } = scrollWindow(rows.length, selected, listHeight);
  const filterText = filtering ? `Filter: ${filter}▏` : filter ? `Filter: ${filter}` : '/ to filter';
  const range = rows.length ? `${start + 1}–${end} of ${rows.length}` : '';
  let empty: string | undefined;
  if (failed) empty = 'Could not read the platforms: r tries again.';
  else if (!loaded) empty = 'Loading platforms…';
  else if (!rows.length) empty = filter ? `No platform matches "${filter}": Esc clears the filter.` : 'No platforms: r reloads.';
  return (
    <Box flexDirection="column" width={width} height={height}>
      <Line bold={filtering}>{spread(` Country: ${countryLabel(country)}${COUNTRY_NOTE[countryPrices ?? 'none']}   ${filterText}`, range + ' ', width)}</Line>
      <Line bold dim={theme.dim}>{'   ' + tableLine(columns, (c) => c.title)}</Line>
      {empty ? (
        <Line>{'   ' + empty}</Line>
      ) : (
        rows.slice(start, end).map((row, i) => {
          const isSelected = start + i === selected;
          return (
            <Line key={row.platform} bold={isSelected} color={isSelected ? theme.accent : undefined}>
              {(isSelected ? ' › ' : '   ') + tableLine(columns, (c) => c.cell(row))}
            </Line>
          );
        })
      )}
    </Box>
  );
}
