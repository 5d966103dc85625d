// The timeline as a Mermaid Gantt chart, which GitHub renders in step summaries and
// Markdown files: a section per batch (one bar for the batch), then a section per target
// whose bars are its phases, failed ones `crit`. Compact display mode puts a target's
// phases on one row (they never overlap); a renderer without it gives each bar its row.
import { type Timeline, pickRows } from './model.js'

export interface GanttOptions {
  title?: string
  /** Past this many targets, those with a failed phase first, the rest left out (and counted). @default 50 */
  maxRows?: number
}

/** The chart as a fenced `mermaid` block, and a line saying how many targets it leaves out. */
export function mermaidGantt(timeline: Timeline, options: GanttOptions = {}): string[] {
  const shown = pickRows(timeline.rows, options.maxRows ?? 50)
  const names = new UniqueNames()
  const lines = ['```mermaid', '---', 'displayMode: compact', '---', 'gantt']
  if (options.title) lines.push(`  title ${ganttText(options.title)}`)
  // Epoch milliseconds in, the wall-clock time of the reader's browser on the axis.
  lines.push('  dateFormat x', '  axisFormat %H:%M:%S')
  let id = 0
  const task = (name: string, tags: string[], start: number, end: number) => `  ${name} :${[...tags, `t${id++}`].join(', ')}, ${start}, ${end}`
  const batchOrder = [...new Set(shown.map((r) => r.batch))].sort((a, b) => (a < 0 ? 1 : b < 0 ? -1 : a - b))
  for (const batch of batchOrder) {
    const rows = shown.filter((r) => r.batch === batch)
    const known = timeline.batches.find((x) => x.index === batch)
    const bars = rows.flatMap((r) => r.bars)
    const start = known?.start ?? Math.min(...bars.map((x) => x.start))
    const end = Math.max(known?.end ?? 0, ...bars.map((x) => x.end))
    const label = batch < 0 ? 'verify' : `batch ${batch + 1}`
    lines.push(`  section ${names.take(label)}`, task(`${rows.length} target${rows.length === 1 ? '' : 's'}`, ['done'], start, Math.max(end, start + 1)))
    for (const row of rows) {
      lines.push(`  section ${names.take(ganttText(row.id))}`)
      // A bar of no length is drawn as nothing: at least 1 ms, so an instant failure shows;
      // and no bar may start before the one before it ends, or compact mode gives it a row of its own.
      let last = Number.NEGATIVE_INFINITY
      for (const bar of row.bars) {
        const from = Math.max(bar.start, last)
        last = Math.max(bar.end, from + 1)
        lines.push(task(bar.phase, bar.how === 'failed' ? ['crit'] : bar.how === 'skipped' ? ['done'] : [], from, last))
      }
    }
  }
  lines.push('```')
  const left = timeline.rows.length - shown.length
  if (left > 0) lines.push('', `${left} of ${timeline.rows.length} targets left out of the timeline (${shown.length} shown, those with a failed phase first).`)
  return lines
}

/**
 * Text that cannot break the chart or the fence around it: Mermaid's Gantt lexer ends a
 * name at `:`, `;`, `#` (a comment) or a line end, takes `%%` for a comment and `#...;` for
 * an entity, and a backtick run could close the Markdown fence. Letters, digits and a few
 * harmless signs stay; `:` becomes the look-alike `꞉` (U+A789) so `host:port` still reads;
 * anything else becomes `_`. Long names are cut.
 */
export function ganttText(text: string): string {
  const safe = String(text)
    .replace(/:/g, '\uA789')
    .replace(/[^\p{L}\p{N} ._\-/@()[\]+=,~\uA789]/gu, '_')
    .replace(/\s+/g, ' ')
    .trim()
  const cut = [...safe]
  const short = cut.length > 60 ? `${cut.slice(0, 59).join('')}…` : safe
  return short === '' ? '_' : short
}

/**
 * Mermaid merges sections of the same name into one, which would put two targets on
 * one row: a name seen before gets ` (2)`, ` (3)`, ...
 */
class UniqueNames {
  readonly #seen = new Set<string>()
  take(name: string): string {
    let unique = name
    for (let n = 2; this.#seen.has(unique); n++) unique = `${name} (${n})`
    this.#seen.add(unique)
    return unique
  }
}
