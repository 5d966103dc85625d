// ANSI escapes by hand (a handful is all the view needs), and the width arithmetic that
// keeps every line of the live region on one terminal row: a wrapped line would break
// the cursor movement that redraws the region in place.

const ESC = '\u001b['
export const HIDE_CURSOR = `${ESC}?25l`
export const SHOW_CURSOR = `${ESC}?25h`
/** Erases the whole line the cursor is on. */
export const ERASE_LINE = `${ESC}2K`
/** Erases from the cursor to the end of the screen (not the scrollback). */
export const ERASE_DOWN = `${ESC}J`
export const cursorUp = (n: number): string => (n > 0 ? `${ESC}${n}A` : '')

// CSI sequences (colours, cursor moves) and OSC sequences (titles, links), as programs print them.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching escape sequences is the point
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g
// The same, anchored where `lastIndex` says: to step over an escape inside a line.
const ANSI_AT = new RegExp(ANSI.source, 'y')
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f]/g

export function stripAnsi(text: string): string {
  return text.replace(ANSI, '')
}

/** Host output made safe to print inside the live region: no escapes, no control characters. */
export function sanitize(text: string): string {
  return stripAnsi(text).replace(/\t/g, '  ').replace(/\n/g, ' ').replace(CONTROL, '')
}

export interface Paint {
  red(text: string): string
  green(text: string): string
  yellow(text: string): string
  cyan(text: string): string
  dim(text: string): string
  bold(text: string): string
}

const style = (open: number, close: number) => (text: string) => `${ESC}${open}m${text}${ESC}${close}m`

/** Colour functions, or the identity when colours are off (`ctx.color` false, NO_COLOR). */
export function paint(color: boolean): Paint {
  if (!color) {
    const plain = (text: string) => text
    return { red: plain, green: plain, yellow: plain, cyan: plain, dim: plain, bold: plain }
  }
  return { red: style(31, 39), green: style(32, 39), yellow: style(33, 39), cyan: style(36, 39), dim: style(2, 22), bold: style(1, 22) }
}

/** Columns a code point takes: 0 for combining marks, 2 for East Asian wide and emoji. */
function charWidth(cp: number): number {
  if (cp < 0x300) return 1
  if ((cp >= 0x300 && cp <= 0x36f) || (cp >= 0x200b && cp <= 0x200f) || (cp >= 0xfe00 && cp <= 0xfe0f)) return 0
  if (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1faff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  ) {
    return 2
  }
  return 1
}

/** Visible width of a line, escapes excluded. */
export function width(text: string): number {
  let n = 0
  for (const ch of stripAnsi(text)) n += charWidth(ch.codePointAt(0) as number)
  return n
}

/**
 * Cuts a line to at most `max` columns, keeping its escapes (a colour cut in half is
 * closed with a reset) and marking the cut with `…`.
 */
export function truncate(text: string, max: number): string {
  if (width(text) <= max) return text
  if (max <= 0) return ''
  let out = ''
  let used = 0
  let styled = false
  let i = 0
  while (i < text.length) {
    ANSI_AT.lastIndex = i
    const seq = text[i] === '\u001b' ? ANSI_AT.exec(text) : null
    if (seq) {
      out += seq[0]
      styled = true
      i += seq[0].length
      continue
    }
    const cp = text.codePointAt(i) as number
    const ch = String.fromCodePoint(cp)
    const w = charWidth(cp)
    if (used + w > max - 1) break
    out += ch
    used += w
    i += ch.length
  }
  return `${out}…${styled ? `${ESC}0m` : ''}`
}

/** Pads to `n` columns (by visible width, not string length). */
export function pad(text: string, n: number): string {
  const w = width(text)
  return w >= n ? text : text + ' '.repeat(n - w)
}
