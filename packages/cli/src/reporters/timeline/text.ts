// The timeline as text for the terminal view's final screen: a line per target whose bar
// is scaled to the terminal's width, one glyph per phase, a failed phase in red ending in
// `✗`, grouped by batch, with a legend. Widths are string-width's, so wide ids line up.
import type { Phase } from '@org/rolling-core'
import { type Paint, pad, sanitize, truncate, width } from '../tty/ansi.js'
import { duration } from '../tty/format.js'
import { type Timeline, type TimelineRow, pickRows } from './model.js'

// A record: a new phase in core fails to compile here until it has its glyph.
const GLYPH = {
  precheck: '·',
  prepare: ':',
  detach: '░',
  deploy: '█',
  settle: '▒',
  attach: '▓',
  hold: '=',
  gate: '!',
  rollback: '<',
  verify: '?',
  stop: 'x',
} satisfies Record<Phase, string>

const FAIL = '✗'
const ID_MAX = 20
const MIN_CELLS = 10

export interface TextTimelineOptions {
  /** Terminal columns: no line is wider. */
  columns: number
  paint: Paint
  /** Past this many targets, those with a failed phase first. @default 20 */
  maxRows?: number
}

export function textTimeline(timeline: Timeline, options: TextTimelineOptions): string[] {
  const { paint, columns } = options
  const rows = pickRows(timeline.rows, options.maxRows ?? 20)
  const span = Math.max(1, timeline.end - timeline.start)
  const idWidth = Math.min(ID_MAX, Math.max(...rows.map((r) => width(sanitize(r.id)))))
  // indent, id, gap, bar, gap, duration
  const cells = Math.max(MIN_CELLS, columns - 2 - idWidth - 2 - 1 - 7)
  const lines = [truncate(paint.bold(`timeline: ${duration(span)}, one column ≈ ${duration(span / cells)}`), columns)]
  let batch: number | undefined
  for (const row of rows) {
    if (row.batch !== batch) {
      batch = row.batch
      lines.push(truncate(paint.dim(batch < 0 ? 'verify' : `batch ${batch + 1}`), columns))
    }
    const id = pad(truncate(sanitize(row.id), idWidth), idWidth)
    const took = row.bars.length > 0 ? duration((row.bars.at(-1)?.end ?? 0) - (row.bars[0]?.start ?? 0)) : ''
    lines.push(truncate(`  ${id}  ${barOf(row, timeline.start, span, cells, paint)} ${took}`, columns))
  }
  if (rows.length < timeline.rows.length) lines.push(paint.dim(`… ${timeline.rows.length - rows.length} more targets not shown`))
  const used = new Set(timeline.rows.flatMap((r) => r.bars.map((b) => b.phase)))
  const legend = (Object.keys(GLYPH) as Phase[]).filter((p) => used.has(p)).map((p) => `${GLYPH[p]} ${p}`)
  lines.push(truncate(paint.dim(`${legend.join('  ')}  ${FAIL} failed`), columns))
  return lines
}

/** One cell per `span / cells` ms; a bar fills the cells it overlaps, a later one wins a shared cell. */
function barOf(row: TimelineRow, start: number, span: number, cells: number, paint: Paint): string {
  const glyphs: string[] = new Array(cells).fill(' ')
  const failed: boolean[] = new Array(cells).fill(false)
  const cell = (at: number) => Math.min(cells - 1, Math.max(0, Math.floor(((at - start) / span) * cells)))
  for (const bar of row.bars) {
    const from = cell(bar.start)
    const to = Math.max(from, cell(bar.end - 1))
    for (let c = from; c <= to; c++) {
      glyphs[c] = GLYPH[bar.phase]
      failed[c] = bar.how === 'failed'
    }
    if (bar.how === 'failed') glyphs[to] = FAIL
  }
  return glyphs.map((g, c) => (failed[c] ? paint.red(g) : g)).join('')
}
