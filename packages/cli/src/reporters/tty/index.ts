// The interactive terminal view: a live region redrawn in place while the rollout runs
// (each target of the running batch with its phase, progress with ETA, failures), finished
// batches printed above it, then a final summary. Used by the CLI when stdout is a TTY.
import type { RolloutEvent, RolloutResult } from '@org/rolling-core'
import type { Reporter, ReporterContext, ReporterFactory } from '../reporter.js'
import { HIDE_CURSOR, SHOW_CURSOR, paint, sanitize } from './ansi.js'
import { listenKeys } from './keys.js'
import { LiveRegion } from './region.js'
import { type Frame, renderBatch, renderLive, renderSummary } from './render.js'
import { ViewState } from './state.js'
import { TimelineRecorder } from '../timeline/model.js'
import { textTimeline } from '../timeline/text.js'

export interface TtyOptions {
  /**
   * Start with the host output pane open (the last lines each target of the running batch
   * printed). The `o` key toggles it when input is a terminal.
   * @default false
   */
  showOutput?: boolean
  /** Lines of output per target in the pane, at most (fewer when the terminal is short). @default 5 */
  outputLines?: number
  /** Least time between two redraws, in milliseconds. @default 100 */
  refreshMs?: number
  /** What Ctrl-C does while the terminal is in raw mode. @default sends SIGINT to this process */
  onInterrupt?: () => void
}

const DEFAULTS = { showOutput: false, outputLines: 5, refreshMs: 100 }
/** Size assumed when `out` does not say (a pseudo-terminal always does). */
const FALLBACK = { columns: 80, rows: 24 }

function validate(options: TtyOptions): Required<Omit<TtyOptions, 'onInterrupt'>> & Pick<TtyOptions, 'onInterrupt'> {
  const o = { ...DEFAULTS, ...options }
  if (typeof o.showOutput !== 'boolean') throw new TypeError(`[rolling:tty] Expected \`showOutput\` to be a boolean, got ${JSON.stringify(o.showOutput)}`)
  if (!Number.isInteger(o.outputLines) || o.outputLines < 1) {
    throw new TypeError(`[rolling:tty] Expected \`outputLines\` to be an integer >= 1, got ${String(o.outputLines)}`)
  }
  if (!Number.isFinite(o.refreshMs) || o.refreshMs < 16)
    throw new TypeError(`[rolling:tty] Expected \`refreshMs\` to be a finite number >= 16, got ${String(o.refreshMs)}`)
  if (o.onInterrupt !== undefined && typeof o.onInterrupt !== 'function') throw new TypeError('[rolling:tty] Expected `onInterrupt` to be a function')
  return o
}

/** The terminal view with the given options; validated here, before any run starts. */
export function createTtyReporter(options: TtyOptions = {}): ReporterFactory {
  const o = validate(options)
  return (ctx) => new TtyReporter(ctx, o)
}

/** The terminal view with its default options. */
export const ttyReporter: ReporterFactory = createTtyReporter()

class TtyReporter implements Reporter {
  readonly #ctx: ReporterContext
  readonly #options: ReturnType<typeof validate>
  readonly #state: ViewState
  readonly #timeline = new TimelineRecorder()
  readonly #region: LiveRegion
  readonly #paint: ReturnType<typeof paint>
  #showOutput: boolean
  #interactive = false
  #restoreKeys: (() => void) | undefined
  #ticker: ReturnType<typeof setInterval> | undefined
  #pending: ReturnType<typeof setTimeout> | undefined
  #lastDraw = 0
  #closed = false
  readonly #onExit = () => this.#restoreTerminal()
  readonly #onResize = () => this.#draw()

  constructor(ctx: ReporterContext, options: ReturnType<typeof validate>) {
    this.#ctx = ctx
    this.#options = options
    this.#state = new ViewState(ctx.now())
    this.#paint = paint(ctx.color)
    this.#showOutput = options.showOutput
    this.#region = new LiveRegion(ctx.out, this.#size().columns)
    ctx.out.write(HIDE_CURSOR)
    // However the process ends (an uncaught error, process.exit), the cursor comes back.
    process.once('exit', this.#onExit)
    ctx.out.on('resize', this.#onResize)
    this.#restoreKeys = listenKeys(ctx.input, {
      key: (key) => {
        if (key === 'o' || key === 'O') {
          this.#showOutput = !this.#showOutput
          this.#draw()
        } else if (this.#state.paused && ctx.control && (key === 'a' || key === 'A')) {
          ctx.control.approve('approved at the terminal')
        } else if (this.#state.paused && ctx.control && (key === 'x' || key === 'X')) {
          ctx.control.abort('aborted at the terminal during the pause')
        }
      },
      ...(options.onInterrupt ? { interrupt: options.onInterrupt } : {}),
    })
    this.#interactive = this.#restoreKeys !== undefined
    // Elapsed time and time in phase move without events; unref'd: it never holds the process.
    this.#ticker = setInterval(() => this.#schedule(), options.refreshMs)
    this.#ticker.unref?.()
    this.#draw()
  }

  event(event: RolloutEvent): void {
    if (this.#closed) return
    const now = this.#ctx.now()
    const finished = this.#state.apply(event, now)
    this.#timeline.apply(event, now)
    const frame = this.#frame()
    if (finished) this.#region.print(renderBatch(finished, frame), frame.columns)
    if (event.type === 'warning')
      this.#region.print([this.#paint.yellow(`! ${event.target ? `${sanitize(event.target.id)}: ` : ''}${sanitize(event.message)}`)], frame.columns)
    else if (event.type === 'fleet:unhealthy') {
      const why = `${event.healthy} healthy in service, at least ${event.minHealthy} needed`
      this.#region.print(
        [
          this.#paint.red(this.#paint.bold(`✖ fleet check before batch ${event.batch + 1} failed: ${why}`)),
          ...event.failing.map((x) => this.#paint.red(`    ${sanitize(x.target.id)}: ${sanitize(x.reason)}`)),
        ],
        frame.columns,
      )
    } else if (event.type === 'log' && event.level === 'error') this.#region.print([this.#paint.red(`✖ ${sanitize(event.message)}`)], frame.columns)
    else if (event.type === 'listener:error') {
      const why = event.error instanceof Error ? event.error.message : String(event.error)
      this.#region.print([this.#paint.yellow(`! a listener of '${sanitize(event.event)}' threw: ${sanitize(why)}`)], frame.columns)
    }
    this.#schedule()
  }

  notice(message: string): void {
    if (this.#closed) return
    // Printed above the region so it stays readable after the region moves on.
    this.#region.print([this.#paint.yellow(this.#paint.bold(`! ${sanitize(message)}`))], this.#size().columns)
    this.#schedule()
  }

  end(result: RolloutResult): void {
    if (this.#closed) return
    const frame = this.#frame()
    this.#close()
    const timeline = this.#timeline.timeline(this.#ctx.now())
    const chart = timeline ? textTimeline(timeline, { columns: frame.columns, paint: this.#paint }) : []
    this.#ctx.out.write(`${[...renderSummary(result, frame), ...chart].join('\n')}\n`)
  }

  fail(): void {
    if (this.#closed) return
    this.#close()
  }

  // The process exits right after: everything here is written synchronously.
  interrupted(message: string): void {
    if (this.#closed) return
    this.#close()
    this.#ctx.out.write(`${this.#paint.yellow(this.#paint.bold(`! ${sanitize(message)}`))}\n`)
  }

  #size(): { columns: number; rows: number } {
    const { columns, rows } = this.#ctx.out
    return { columns: columns && columns > 0 ? columns : FALLBACK.columns, rows: rows && rows > 0 ? rows : FALLBACK.rows }
  }

  #frame(): Frame {
    return {
      command: this.#ctx.command,
      service: this.#ctx.service,
      now: this.#ctx.now(),
      ...this.#size(),
      paint: this.#paint,
      showOutput: this.#showOutput,
      outputLines: this.#options.outputLines,
      interactive: this.#interactive,
      canApprove: this.#ctx.control !== undefined,
    }
  }

  // At most one redraw per `refreshMs`: a burst of events (a batch of 50 attaching)
  // becomes one frame, and a chatty host's output does not flood the terminal.
  #schedule(): void {
    if (this.#closed || this.#pending) return
    const wait = Math.max(0, this.#lastDraw + this.#options.refreshMs - Date.now())
    this.#pending = setTimeout(() => {
      this.#pending = undefined
      this.#draw()
    }, wait)
    this.#pending.unref?.()
  }

  #draw(): void {
    if (this.#closed) return
    this.#lastDraw = Date.now()
    const frame = this.#frame()
    this.#region.draw(renderLive(this.#state, frame), frame.columns)
  }

  #close(): void {
    this.#closed = true
    clearInterval(this.#ticker)
    clearTimeout(this.#pending)
    this.#region.clear(this.#size().columns)
    this.#restoreTerminal()
  }

  #restoreTerminal(): void {
    process.off('exit', this.#onExit)
    this.#ctx.out.off('resize', this.#onResize)
    this.#restoreKeys?.()
    this.#restoreKeys = undefined
    this.#ctx.out.write(SHOW_CURSOR)
  }
}
