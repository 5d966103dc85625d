// ANSI escapes by hand (a handful is all the view needs), and the width arithmetic that
// keeps every line of the live region on one terminal row: a wrapped line would break
// the cursor movement that redraws the region in place. Widths are string-width's (the
// Unicode tables terminals follow), cuts cli-truncate's (escape-aware).
import cliTruncate from 'cli-truncate'
import stringWidth from 'string-width'
import { safeLine, safeOutput } from '../../safe-text.js'

const ESC = '\u001b['
export const HIDE_CURSOR = `${ESC}?25l`
export const SHOW_CURSOR = `${ESC}?25h`
/** Erases the whole line the cursor is on. */
export const ERASE_LINE = `${ESC}2K`
/** Erases from the cursor to the end of the screen (not the scrollback). */
export const ERASE_DOWN = `${ESC}J`
export const cursorUp = (n: number): string => (n > 0 ? `${ESC}${n}A` : '')

/** Data shown in the view (an id, a reason, a message): control characters visible (`\x1b`), on one line. */
export function sanitize(text: string): string {
  return safeLine(
    String(text)
      .replace(/\t/g, '  ')
      .replace(/\s*\n\s*/g, ' '),
  )
}

/** A line of host output in the pane: escapes and control characters dropped, tabs as spaces. */
export function sanitizeOutput(text: string): string {
  return safeOutput(String(text)).replace(/\t/g, '  ').replace(/\n/g, ' ')
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

/** Columns a line takes on a terminal, escapes excluded: emoji and East Asian wide characters count 2, `👩‍💻` too. */
export function width(text: string): number {
  return stringWidth(text)
}

/**
 * Cuts a line to at most `max` columns, keeping its escapes (a colour cut in half is
 * closed) and marking the cut with `…`.
 */
export function truncate(text: string, max: number): string {
  if (max <= 0) return ''
  if (width(text) <= max) return text
  // cli-truncate 5.2 (slice-ansi 8) keeps a wide character that starts in the last column
  // before the `…` and overshoots by one: cut again a column shorter until it fits, for one
  // column too many wraps the line and breaks the region's cursor arithmetic.
  let cut = cliTruncate(text, max)
  for (let m = max - 1; width(cut) > max && m > 0; m--) cut = cliTruncate(text, m)
  return cut
}

/** Pads to `n` columns (by visible width, not string length). */
export function pad(text: string, n: number): string {
  const w = width(text)
  return w >= n ? text : text + ' '.repeat(n - w)
}
