// Turns the view's state into lines: the live region (header, progress, the running
// batch, failures, the host output pane) fitted to the terminal, the line printed once
// when a batch ends, and the final summary. Pure: the same state and time give the same lines.
import type { RolloutResult, TargetOutcome } from '@org/rolling-core'
import { type Paint, pad, sanitize, sanitizeOutput, truncate, width } from './ansi.js'
import { controlSummary, countWarnings, warnedIds, warningText } from '../format.js'
import { bar, duration, estimate } from './format.js'
import type { FinishedBatch, TargetView, ViewPhase, ViewState } from './state.js'

export interface Frame {
  command: 'deploy' | 'resume'
  service: string
  now: number
  columns: number
  rows: number
  paint: Paint
  /** The host output pane is open. */
  showOutput: boolean
  /** Lines per target in the pane, at most. */
  outputLines: number
  /** Keys are read: say which ones do something. */
  interactive: boolean
  /** `a` approves a pause and `x` aborts it (the run was started in this process). */
  canApprove?: boolean
}

const address = (t: TargetView) => sanitize(t.target.port === undefined ? t.target.address : `${t.target.address}:${t.target.port}`)

function phaseText(t: TargetView, f: Frame): string {
  const { paint } = f
  const label = pad(t.phase, 11)
  switch (t.phase) {
    case 'done':
      return paint.green(label)
    case 'failed':
      return paint.red(`${paint.bold(t.phase)} ${t.failedIn ? `in ${t.failedIn}: ` : ''}${sanitize(t.reason ?? '')}`)
    case 'stopped':
      return paint.red(`${paint.bold(t.phase)}: ${sanitize(t.reason ?? '')}`)
    case 'unhealthy':
      return paint.red(`${label} ${duration(f.now - t.since)}  ${sanitize(t.reason ?? '')}`)
    case 'skipped':
      return paint.yellow(`${t.phase}: ${sanitize(t.reason ?? '')}`)
    case 'unverified':
    case 'rolled back':
    case 'restored':
      return paint.yellow(label)
    case 'pending':
    case 'earlier run':
      return paint.dim(label)
    case 'pre-check':
    case 'detaching':
    case 'detached':
    case 'deploying':
    case 'settling':
    case 'healthy':
    case 'attaching':
    case 'holding':
      return `${paint.cyan(label)} ${duration(f.now - t.since)}`
    default:
      return t.phase satisfies never
  }
}

/** Red for what went wrong, green for done, yellow for what a person should look at. */
function tone(phase: ViewPhase | TargetOutcome, paint: Paint): (text: string) => string {
  if (phase === 'failed' || phase === 'stopped') return paint.red
  if (phase === 'done') return paint.green
  if (phase === 'unverified' || phase === 'skipped' || phase === 'rolled back' || phase === 'rolled-back' || phase === 'restored') return paint.yellow
  return (text) => text
}

function counts(phases: Iterable<[ViewPhase, number]>, paint: Paint): string {
  const parts: string[] = []
  for (const [phase, n] of phases) {
    if (n <= 0) continue
    parts.push(tone(phase, paint)(`${n} ${phase}`))
  }
  return parts.join(', ')
}

function header(state: ViewState, f: Frame): string[] {
  const { paint } = f
  const build = state.version ?? state.ref ?? '…'
  const title = `${paint.bold(`rolling ${f.command}`)}  ${paint.bold(sanitize(f.service))} → ${paint.bold(sanitize(build))}${state.runId ? paint.dim(`  run ${sanitize(state.runId)}`) : ''}`
  const total = state.total
  const done = state.finished
  const elapsed = f.now - state.startedAt
  const eta = state.eta(f.now)
  const batch = state.batch >= 0 ? `batch ${state.batch + 1}/${state.batchTotal}` : state.batchTotal > 0 ? `${state.batchTotal} batches` : 'planning'
  const tail = `  ${done}/${total} targets  ${batch}  elapsed ${duration(elapsed)}  ETA ${eta === undefined ? '--' : estimate(eta)}`
  const cells = Math.max(10, Math.min(40, f.columns - width(tail) - 4))
  const filled = bar(total === 0 ? 0 : done / total, cells)
  const coloured = state.failures.length > 0 ? paint.red(filled) : paint.green(filled)
  return [title, `${coloured}${tail}`]
}

function targetLine(t: TargetView, idWidth: number, addrWidth: number, f: Frame): string {
  return `  ${pad(sanitize(t.target.id), idWidth)}  ${f.paint.dim(pad(address(t), addrWidth))}  ${phaseText(t, f)}`
}

/** The live region, at most `rows - 1` lines of at most `columns - 1` columns. */
export function renderLive(state: ViewState, f: Frame): string[] {
  const { paint } = f
  const budget = Math.max(4, f.rows - 1)
  const top = header(state, f)
  const bottom: string[] = []
  const others = state.current.length > 0 && state.total > state.current.length ? counts(state.others(), paint) : ''
  if (others) bottom.push(paint.dim(`  other targets: `) + others)
  if (f.interactive) bottom.push(paint.dim(f.showOutput ? '  o: hide host output' : '  o: show host output'))
  let room = Math.max(1, budget - top.length - bottom.length)

  const body: string[] = []
  if (state.gate !== undefined) {
    body.push(
      `  ${paint.cyan('gate')}: checking the fleet (${state.gate.targets} target(s)) before batch ${state.gate.batch + 1}  ${duration(f.now - state.gate.since)}`,
    )
    room--
  }
  if (state.watching !== undefined) {
    const w = state.watching
    body.push(`  ${paint.cyan('gate')}: ${sanitize(w.gate)} ${w.final ? 'at the end' : `after batch ${w.batch + 1}/${w.total}`}  ${duration(f.now - w.since)}`)
    room--
  }
  if (state.paused !== undefined) {
    const p = state.paused
    const left = Math.max(0, p.until - f.now)
    body.push(
      `  ${paint.yellow('paused')} after batch ${p.index + 1}/${p.total}, every target in service: waiting for \`rolling approve\`  ${duration(f.now - p.since)} (${p.onTimeout === 'approve' ? 'goes on' : 'aborts'} in ${duration(left)})`,
    )
    if (f.interactive && f.canApprove) body.push(paint.dim('  a: approve  x: abort'))
    room -= f.interactive && f.canApprove ? 2 : 1
  }
  if (state.verifying !== undefined && state.current.length === 0) {
    body.push(`  verify: checking the build of ${state.verifying} target(s)`)
    room--
  }
  // Failures of earlier batches stay on screen; those of this batch show on their own line.
  const earlier = state.failures.filter((t) => !state.current.includes(t))
  const failRoom = Math.min(earlier.length, Math.max(1, Math.floor(room / 3)))
  const current = state.current
  const idWidth = Math.min(24, Math.max(0, ...[...current, ...earlier].map((t) => width(sanitize(t.target.id)))))
  const addrWidth = Math.min(24, Math.max(0, ...[...current, ...earlier].map((t) => width(address(t)))))

  const targetRoom = Math.max(0, room - failRoom)
  let shown = current
  if (current.length > targetRoom) {
    shown = current.slice(0, Math.max(0, targetRoom - 1))
    const rest = current.slice(shown.length)
    const byPhase = new Map<ViewPhase, number>()
    for (const t of rest) byPhase.set(t.phase, (byPhase.get(t.phase) ?? 0) + 1)
    body.push(...shown.map((t) => targetLine(t, idWidth, addrWidth, f)), `  … ${rest.length} more in this batch: ${counts(byPhase, paint)}`)
  } else body.push(...shown.map((t) => targetLine(t, idWidth, addrWidth, f)))
  room -= Math.min(current.length, targetRoom)

  if (failRoom > 0) {
    const listed = earlier.length > failRoom ? earlier.slice(0, failRoom - 1) : earlier
    body.push(...listed.map((t) => targetLine(t, idWidth, addrWidth, f)))
    if (listed.length < earlier.length) body.push(paint.red(`  … and ${earlier.length - listed.length} more failed`))
    room -= failRoom
  }

  if (f.showOutput) body.push(...outputPane(state, shown, room, f))
  return [...top, ...body, ...bottom].map((line) => truncate(line, Math.max(1, f.columns - 1)))
}

/** The last lines each target of the running batch printed, as many as fit in `room`. */
function outputPane(state: ViewState, targets: readonly TargetView[], room: number, f: Frame): string[] {
  const { paint } = f
  if (room < 2) return room === 1 ? [paint.dim('  host output: no room; enlarge the terminal')] : []
  if (targets.length === 0) return [paint.dim('  host output: no batch running')]
  const lines: string[] = []
  const per = Math.min(f.outputLines, Math.floor(room / targets.length) - 1)
  for (const t of targets) {
    if (lines.length + 2 > room) break
    const n = Math.max(1, per)
    const out = state.output(t.target.id, n)
    lines.push(paint.dim(`  ── ${sanitize(t.target.id)} output ──`))
    if (out.length === 0) lines.push(paint.dim('    (no output yet)'))
    for (const line of out) lines.push(`    ${sanitizeOutput(line)}`)
  }
  return lines.slice(0, room)
}

/**
 * Printed once above the live region when a batch ends; scrolls away with the rest. Each
 * target by name when that fits on one line, else counted; what did not go well is
 * listed below it with the reason either way.
 */
export function renderBatch(batch: FinishedBatch, f: Frame): string[] {
  const { paint } = f
  const bad = batch.targets.some((t) => t.phase === 'failed' || t.phase === 'stopped')
  const mark = bad ? paint.red('✖') : batch.targets.every((t) => t.phase === 'done') ? paint.green('✔') : paint.yellow('!')
  const tint = (phase: ViewPhase, text: string) => (phase === 'done' ? text : phase === 'failed' || phase === 'stopped' ? paint.red(text) : paint.yellow(text))
  const head = `${mark} batch ${batch.index + 1}/${batch.total} in ${duration(batch.durationMs)}: `
  let line = head + batch.targets.map((t) => tint(t.phase, `${sanitize(t.target.id)} ${t.phase}`)).join(', ')
  if (width(line) >= f.columns) {
    const byPhase = new Map<ViewPhase, number>()
    for (const t of batch.targets) byPhase.set(t.phase, (byPhase.get(t.phase) ?? 0) + 1)
    line = head + [...byPhase].map(([phase, n]) => tint(phase, `${n} ${phase}`)).join(', ')
  }
  const reasons = batch.targets
    .filter((t) => t.reason !== undefined && t.phase !== 'done')
    .map((t) => tint(t.phase, `    ${sanitize(t.target.id)} ${t.phase}${t.failedIn ? ` in ${t.failedIn}` : ''}: ${sanitize(t.reason ?? '')}`))
  return [line, ...reasons]
}

const STATUS_WORD: Record<RolloutResult['status'], string> = {
  succeeded: 'succeeded',
  degraded: 'DEGRADED',
  halted: 'HALTED',
  failed: 'FAILED',
  aborted: 'ABORTED',
}
/** Targets listed one by one in the summary; more are counted. */
const LIST_MAX = 30

/**
 * The final summary: status and duration, counts, every target not done that no warning
 * covers (with why), the warnings highlighted (a succeeded result with hosts left out must
 * not read as a clean one), then what needs a human.
 */
export function renderSummary(result: RolloutResult, f: Frame): string[] {
  const { paint } = f
  const ok = result.status === 'succeeded'
  const warnings = result.warnings ?? []
  const version = result.artifact?.version
  // An abort is what the user asked for: yellow, not the red of a failure.
  // A degraded end went all the way, with failures within the budget: yellow, as a warning.
  const headTone = ok
    ? warnings.length > 0
      ? paint.yellow
      : paint.green
    : result.status === 'aborted' || result.status === 'degraded'
      ? paint.yellow
      : paint.red
  const mark = ok ? (warnings.length > 0 ? '⚠' : '✔') : result.status === 'aborted' ? '!' : result.status === 'degraded' ? '⚠' : '✖'
  const head = `${headTone(mark)} ${f.command} of ${sanitize(result.service)}${version ? ` ${sanitize(version)}` : ''} ${
    ok ? headTone(STATUS_WORD[result.status]) : headTone(paint.bold(STATUS_WORD[result.status]))
  }${warnings.length > 0 ? headTone(` with ${countWarnings(warnings.length)}`) : ''} in ${duration(result.durationMs)}${paint.dim(`  run ${sanitize(result.runId)}`)}`
  const lines = [head]
  if (result.reason) lines.push(`  ${ok ? '' : paint.red('reason: ')}${sanitize(result.reason)}`)
  const byOutcome = new Map<TargetOutcome, number>()
  for (const r of result.targets) byOutcome.set(r.outcome, (byOutcome.get(r.outcome) ?? 0) + 1)
  const parts = [...byOutcome].map(([outcome, n]) => tone(outcome, paint)(`${n} ${outcome}`))
  lines.push(`  ${result.targets.length} target(s): ${parts.join(', ') || 'none'}`)
  const warned = warnedIds(result)
  const notDone = result.targets.filter((r) => r.outcome !== 'done' && !warned.has(r.target.id))
  const idWidth = Math.min(24, Math.max(0, ...notDone.map((r) => width(sanitize(r.target.id)))))
  for (const r of notDone.slice(0, LIST_MAX)) {
    const why = `${r.failedIn ? `in ${r.failedIn}` : ''}${r.failedIn && r.reason ? ': ' : ''}${sanitize(r.reason ?? '')}`
    const text = `  ${pad(sanitize(r.target.id), idWidth)}  ${pad(r.outcome, 11)} ${why}`.trimEnd()
    lines.push(r.outcome === 'failed' || r.outcome === 'stopped' ? paint.red(text) : paint.yellow(text))
  }
  if (notDone.length > LIST_MAX) lines.push(`  … and ${notDone.length - LIST_MAX} more not done`)
  if (warnings.length > 0) {
    lines.push(paint.yellow(paint.bold(`  ⚠ ${countWarnings(warnings.length)}:`)))
    const kindWidth = Math.max(...warnings.map((w) => w.kind.length))
    const wIdWidth = Math.min(24, Math.max(...warnings.map((w) => width(sanitize(w.target.id)))))
    for (const w of warnings.slice(0, LIST_MAX)) {
      lines.push(paint.yellow(`    ${pad(w.kind, kindWidth)}  ${pad(sanitize(w.target.id), wIdWidth)}  ${sanitize(warningText(w))}`))
    }
    if (warnings.length > LIST_MAX) lines.push(paint.yellow(`    … and ${warnings.length - LIST_MAX} more warnings`))
  }
  for (const line of controlSummary(result)) lines.push(`  ${sanitize(line)}`)
  if (result.needsAttention.length > 0) {
    lines.push(paint.red(paint.bold(`  left out of the load balancer for manual verification: ${result.needsAttention.map((t) => sanitize(t.id)).join(', ')}`)))
  }
  return lines
}
