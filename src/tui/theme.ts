/**
 * Colours of the app, or none at all: with `NO_COLOR`, `--no-color` or no terminal every colour is
 * undefined and selection is shown by a marker and brackets alone.
 */
export interface Theme {
  color: boolean;
  accent: string | undefined;
  ok: string | undefined;
  warn: string | undefined;
  error: string | undefined;
  /** Dim secondary text (an attribute, not a colour, but off with the colours too). */
  dim: boolean;
}

export function themeFor(color: boolean): Theme {
  return color
    ? { color, accent: 'cyan', ok: 'green', warn: 'yellow', error: 'red', dim: true }
    : { color, accent: undefined, ok: undefined, warn: undefined, error: undefined, dim: false };
}

export function statusColor(theme: Theme, status: string): string | undefined {
  if (status === 'completed') return theme.ok;
  if (status === 'active') return theme.accent;
  return theme.warn;
}
