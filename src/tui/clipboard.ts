/**
 * OSC 52: asks the terminal to put `text` on the clipboard. It travels with the output, so it works
 * over SSH; terminals that do not support it ignore it.
 */
export function osc52(text: string): string {
  return `\u001b]52;c;${Buffer.from(text, 'utf8').toString('base64')}\u0007`;
}
