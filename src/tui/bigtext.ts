/**
 * Large text for the phone number and the code: a 3×5 pixel font drawn with half blocks, so each
 * character is 3 columns wide and 3 lines tall. The same text is always shown in plain characters
 * too, for copying and for screen readers.
 */
const FONT: Readonly<Record<string, string>> = {
  '0': '111101101101111',
  '1': '010110010010111',
  '2': '111001111100111',
  '3': '111001111001111',
  '4': '101101111001001',
  '5': '111100111001111',
  '6': '111100111101111',
  '7': '111001001001001',
  '8': '111101111101111',
  '9': '111101111001111',
  '+': '000010111010000',
  '-': '000000111000000',
  ' ': '000000000000000',
  A: '010101111101101',
  B: '110101110101110',
  C: '011100100100011',
  D: '110101101101110',
  E: '111100110100111',
  F: '111100110100100',
  G: '011100101101011',
  H: '101101111101101',
  I: '111010010010111',
  J: '001001001101010',
  K: '101101110101101',
  L: '100100100100111',
  M: '101111111101101',
  N: '110101101101101',
  O: '010101101101010',
  P: '110101110100100',
  Q: '010101101110011',
  R: '110101110101101',
  S: '011100010001110',
  T: '111010010010010',
  U: '101101101101111',
  V: '101101101101010',
  W: '101101111111101',
  X: '101101010101101',
  Y: '101101010010010',
  Z: '111001010100111',
};

const HALF = [' ', '▄', '▀', '█'] as const;

/** Columns `bigText(text)` takes: 4 per character less the last gap. */
export const bigWidth = (text: string): number => (text.length ? text.length * 4 - 1 : 0);

/** Three lines drawing `text` large, or null when a character is not in the font. */
export function bigText(text: string): string[] | null {
  const glyphs: string[] = [];
  for (const ch of text.toUpperCase()) {
    const g = FONT[ch];
    if (!g) return null;
    glyphs.push(g + '000'); // a sixth, empty pixel row pairs with the fifth
  }
  const lines: string[] = [];
  for (let row = 0; row < 3; row++) {
    lines.push(
      glyphs
        .map((g) => {
          let cell = '';
          for (let x = 0; x < 3; x++) {
            const top = g[row * 6 + x] === '1' ? 2 : 0;
            const bottom = g[row * 6 + 3 + x] === '1' ? 1 : 0;
            cell += HALF[top + bottom];
          }
          return cell;
        })
        .join(' '),
    );
  }
  return lines;
}
