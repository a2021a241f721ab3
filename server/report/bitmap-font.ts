/**
 * A 3×5 pixel font for chart labels (digits, capital letters, a little punctuation), so charts
 * need no font files or canvas library. Lower case is drawn as upper case; unknown characters as
 * a hollow box.
 */

const GLYPHS: Record<string, string> = {
  '0': '###/#.#/#.#/#.#/###',
  '1': '.#./##./.#./.#./###',
  '2': '###/..#/###/#../###',
  '3': '###/..#/###/..#/###',
  '4': '#.#/#.#/###/..#/..#',
  '5': '###/#../###/..#/###',
  '6': '###/#../###/#.#/###',
  '7': '###/..#/..#/.#./.#.',
  '8': '###/#.#/###/#.#/###',
  '9': '###/#.#/###/..#/###',
  A: '.#./#.#/###/#.#/#.#',
  B: '##./#.#/##./#.#/##.',
  C: '.##/#../#../#../.##',
  D: '##./#.#/#.#/#.#/##.',
  E: '###/#../##./#../###',
  F: '###/#../##./#../#..',
  G: '.##/#../#.#/#.#/.##',
  H: '#.#/#.#/###/#.#/#.#',
  I: '###/.#./.#./.#./###',
  J: '..#/..#/..#/#.#/.#.',
  K: '#.#/#.#/##./#.#/#.#',
  L: '#../#../#../#../###',
  M: '#.#/###/###/#.#/#.#',
  N: '##./#.#/#.#/#.#/#.#',
  O: '.#./#.#/#.#/#.#/.#.',
  P: '##./#.#/##./#../#..',
  Q: '.#./#.#/#.#/##./.##',
  R: '##./#.#/##./#.#/#.#',
  S: '.##/#../.#./..#/##.',
  T: '###/.#./.#./.#./.#.',
  U: '#.#/#.#/#.#/#.#/###',
  V: '#.#/#.#/#.#/#.#/.#.',
  W: '#.#/#.#/###/###/#.#',
  X: '#.#/#.#/.#./#.#/#.#',
  Y: '#.#/#.#/.#./.#./.#.',
  Z: '###/..#/.#./#../###',
  '.': '.../.../.../.../.#.',
  ',': '.../.../.../.#./#..',
  '-': '.../.../###/.../...',
  '+': '.../.#./###/.#./...',
  '=': '.../###/.../###/...',
  '_': '.../.../.../.../###',
  '%': '#.#/..#/.#./#../#.#',
  '/': '..#/..#/.#./#../#..',
  ':': '.../.#./.../.#./...',
  '(': '.#./#../#../#../.#.',
  ')': '.#./..#/..#/..#/.#.',
  '[': '##./#../#../#../##.',
  ']': '.##/..#/..#/..#/.##',
  ' ': '.../.../.../.../...',
  '?': '###/..#/.#./.../.#.',
};

const UNKNOWN = '###/#.#/#.#/#.#/###';

export const GLYPH_WIDTH = 3;
export const GLYPH_HEIGHT = 5;

/** The glyph's rows, top to bottom; each row is 3 booleans. */
export function glyph(ch: string): boolean[][] {
  const pattern = GLYPHS[ch] ?? GLYPHS[ch.toUpperCase()] ?? UNKNOWN;
  return pattern.split('/').map((row) => [...row].map((c) => c === '#'));
}

/** Width in pixels of `text` drawn at `scale` (one blank column between glyphs). */
export function textWidth(text: string, scale: number): number {
  return text.length === 0 ? 0 : (text.length * (GLYPH_WIDTH + 1) - 1) * scale;
}

/** Calls `plot(x, y)` for every lit pixel of `text` with its top-left corner at (x0, y0). */
export function drawText(text: string, x0: number, y0: number, scale: number, plot: (x: number, y: number) => void): void {
  let x = x0;
  for (const ch of text) {
    const rows = glyph(ch);
    for (let gy = 0; gy < GLYPH_HEIGHT; gy++) {
      for (let gx = 0; gx < GLYPH_WIDTH; gx++) {
        if (!rows[gy][gx]) continue;
        for (let sy = 0; sy < scale; sy++) for (let sx = 0; sx < scale; sx++) plot(x + gx * scale + sx, y0 + gy * scale + sy);
      }
    }
    x += (GLYPH_WIDTH + 1) * scale;
  }
}
