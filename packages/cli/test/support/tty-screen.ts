// A small terminal emulator for the view's unit tests: it applies the bytes the view
// writes (text, CR/LF, cursor up, erase line/down, colours, cursor show/hide) to a grid,
// so tests read the screen a person would see. An escape it does not know fails the test:
// the view must not rely on anything else (and host output must not leak escapes through).
import { Writable } from 'node:stream'
import stringWidth from 'string-width'

// A character as a terminal draws it: a grapheme (`👩‍💻` is three code points) of width 1 or 2.
const graphemes = new Intl.Segmenter('en', { granularity: 'grapheme' })

interface Cell {
  ch: string
  /** SGR foreground code in force when written (31 red, 32 green, ...), 39 default. */
  fg: number
}

export class Screen {
  /** Every line ever written: the scrollback, then the visible screen at the end. */
  readonly lines: Cell[][] = [[]]
  row = 0
  col = 0
  fg = 39
  cursorVisible = true
  /** Lines that went past the last column and wrapped onto the next row. */
  readonly wrapped: string[] = []
  /** Escapes it could not apply (see `screenStream`). */
  readonly errors: string[] = []
  /** Every chunk written, as written. */
  readonly writes: string[] = []

  constructor(
    readonly columns: number,
    readonly rows: number,
  ) {}

  get top(): number {
    return Math.max(0, this.lines.length - this.rows)
  }

  write(data: string): void {
    this.writes.push(data)
    for (let i = 0; i < data.length; ) {
      const c = data[i] as string
      if (c === '\u001b') {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: parsing escape sequences is the point
        const m = /^\u001b\[(\??)([0-9;]*)([A-Za-z])/.exec(data.slice(i))
        if (!m) throw new Error(`screen: unsupported escape ${JSON.stringify(data.slice(i, i + 8))}`)
        this.#csi(m[1] as string, m[2] as string, m[3] as string)
        i += m[0].length
        continue
      }
      if (c === '\n') {
        // A terminal's line discipline turns LF into CR LF (onlcr).
        this.row++
        this.col = 0
        while (this.lines.length <= this.row) this.lines.push([])
      } else if (c === '\r') this.col = 0
      else if (c < ' ' || c === '\u007f') throw new Error(`screen: unexpected control character ${JSON.stringify(c)}`)
      else {
        const ch = (
          graphemes
            .segment(data.slice(i, i + 32))
            [Symbol.iterator]()
            .next().value as { segment: string }
        ).segment
        const w = Math.max(1, stringWidth(ch))
        if (this.col + w > this.columns) {
          // Auto-wrap, as a terminal does when a character comes past the last column.
          this.wrapped.push(this.text(this.row))
          this.row++
          this.col = 0
          while (this.lines.length <= this.row) this.lines.push([])
        }
        const line = this.lines[this.row] as Cell[]
        while (line.length < this.col) line.push({ ch: ' ', fg: 39 })
        line[this.col] = { ch, fg: this.fg }
        // A wide character takes two cells; the second holds nothing of its own.
        if (w === 2) line[this.col + 1] = { ch: '', fg: this.fg }
        this.col += w
        i += ch.length
        continue
      }
      i++
    }
  }

  #csi(private_: string, params: string, final: string): void {
    const n = params === '' ? undefined : Number(params.split(';')[0])
    if (private_ === '?') {
      if (params === '25' && final === 'l') this.cursorVisible = false
      else if (params === '25' && final === 'h') this.cursorVisible = true
      else throw new Error(`screen: unsupported private mode ${params}${final}`)
      return
    }
    switch (final) {
      case 'A':
        this.row = Math.max(this.top, this.row - (n ?? 1))
        return
      case 'K':
        if (n === 2) this.lines[this.row] = []
        else throw new Error(`screen: unsupported erase-line mode ${params}`)
        return
      case 'J':
        if (n !== undefined && n !== 0) throw new Error(`screen: unsupported erase mode ${params} (would clear the screen)`)
        ;(this.lines[this.row] as Cell[]).length = Math.min((this.lines[this.row] as Cell[]).length, this.col)
        this.lines.length = this.row + 1
        return
      case 'm':
        for (const p of params === '' ? ['0'] : params.split(';')) {
          const code = Number(p)
          if (code === 0 || code === 39) this.fg = 39
          else if (code >= 30 && code <= 37) this.fg = code
        }
        return
      default:
        throw new Error(`screen: unsupported escape CSI ${params}${final}`)
    }
  }

  text(row: number): string {
    return (this.lines[row] ?? [])
      .map((c) => c.ch)
      .join('')
      .trimEnd()
  }

  /** The visible screen, one string a row, trailing blanks trimmed. */
  screen(): string[] {
    const out: string[] = []
    for (let r = this.top; r < this.top + this.rows; r++) out.push(this.text(r))
    return out
  }

  /** Everything: the scrollback and the screen, trailing empty lines dropped. */
  all(): string {
    const out = this.lines.map((_, r) => this.text(r))
    while (out.length > 0 && out[out.length - 1] === '') out.pop()
    return out.join('\n')
  }

  /** The foreground colour of every cell of the first visible occurrence of `text`. */
  colorsOf(text: string): number[] | undefined {
    for (let r = this.top; r < this.lines.length; r++) {
      const at = this.text(r).indexOf(text)
      if (at >= 0) return (this.lines[r] as Cell[]).slice(at, at + text.length).map((c) => c.fg)
    }
    return undefined
  }
}

/** A writable that feeds a Screen and says it is a terminal of the given size. */
export function screenStream(columns: number, rows: number): { out: Writable & { isTTY: boolean; columns: number; rows: number }; screen: Screen } {
  const screen = new Screen(columns, rows)
  const out = Object.assign(
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        // Recorded, not thrown: a test asserts `errors` is empty and shows what went wrong.
        try {
          screen.write(chunk.toString())
        } catch (error) {
          screen.errors.push((error as Error).message)
        }
        done()
      },
    }),
    { isTTY: true, columns, rows },
  )
  return { out, screen }
}
