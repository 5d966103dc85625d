// The live region: a block of lines at the bottom of the output, redrawn in place by
// moving the cursor up over it and erasing downwards, never by clearing the screen, so
// the scrollback (and lines printed above the region) stays intact.
import type { Writable } from 'node:stream'
import { ERASE_DOWN, ERASE_LINE, cursorUp, width } from './ansi.js'

export class LiveRegion {
  /** The lines on screen now; the cursor sits at the start of the line below them. */
  #lines: string[] = []
  /** Terminal width when they were drawn, to count rows again after a resize. */
  #columns: number

  constructor(
    private readonly out: Writable,
    columns: number,
  ) {
    this.#columns = columns
  }

  /** Replaces the region's lines; writes nothing when they did not change. */
  draw(lines: readonly string[], columns: number): void {
    if (columns === this.#columns && lines.length === this.#lines.length && lines.every((line, i) => line === this.#lines[i])) return
    this.out.write(this.#erase(columns) + this.#body(lines))
    this.#lines = [...lines]
    this.#columns = columns
  }

  /** Prints lines above the region, where they stay and scroll away; the region follows below. */
  print(lines: readonly string[], columns: number): void {
    if (lines.length === 0) return
    this.out.write(`${this.#erase(columns)}${lines.map((line) => `${line}\n`).join('')}${this.#body(this.#lines)}`)
    this.#columns = columns
  }

  /** Erases the region and leaves the cursor where it started. */
  clear(columns: number): void {
    if (this.#lines.length > 0) this.out.write(this.#erase(columns))
    this.#lines = []
    this.#columns = columns
  }

  get height(): number {
    return this.#lines.length
  }

  #body(lines: readonly string[]): string {
    return lines.map((line) => `${ERASE_LINE}${line}\n`).join('')
  }

  // Lines were cut to the width they were drawn at; after the terminal narrowed, a line
  // may have wrapped onto several rows, and the cursor must climb all of them.
  #erase(columns: number): string {
    if (this.#lines.length === 0) return '\r'
    let rows = 0
    for (const line of this.#lines) rows += columns < this.#columns ? Math.max(1, Math.ceil(width(line) / Math.max(1, columns))) : 1
    return `\r${cursorUp(rows)}${ERASE_DOWN}`
  }
}
