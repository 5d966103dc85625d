// The Markdown summary: a heading with the service, build and status, a table of the
// targets (address, outcome, batch, deploy time, reason), a timeline (a Mermaid Gantt
// chart, folded from the events) and the time spent per phase.
// Written to $GITHUB_STEP_SUMMARY (appended, as GitHub expects) and/or a file given by flag.
import { appendFileSync, mkdirSync, writeFileSync } from 'node:fs'
import { appendFile, mkdir, writeFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import type { Phase, RolloutResult, RolloutStatus, TargetReport } from '@org/rolling-core'
import type { Reporter, ReporterFactory } from './reporter.js'
import { addressOf, controlSummary, countOutcomes, countWarnings, formatDuration, warningText } from './format.js'
import { messageOf } from '../errors.js'
import { markdownCode, markdownText } from '../safe-text.js'
import { type Timeline, TimelineRecorder } from './timeline/model.js'
import { mermaidGantt } from './timeline/mermaid.js'

export interface MarkdownSummaryOptions {
  /** The file to write. */
  path: string
  /** Add to the file instead of replacing it (what `$GITHUB_STEP_SUMMARY` expects). @default false */
  append?: boolean
  /** Past this many targets, only those not `done` get a row. @default 200 */
  maxRows?: number
  /** Past this many targets, the timeline shows those with a failed phase first, then the rest up to this many. @default 50 */
  timelineRows?: number
}

const ICON: Record<RolloutStatus, string> = { succeeded: '✅', degraded: '🟠', halted: '⚠️', failed: '❌', aborted: '⏹️' }
// A record, not a list: a new phase in core fails to compile here until it has its column.
const PHASE_ORDER = {
  precheck: 0,
  prepare: 1,
  detach: 2,
  deploy: 3,
  settle: 4,
  attach: 5,
  hold: 6,
  gate: 7,
  rollback: 8,
  verify: 9,
  stop: 10,
} satisfies Record<Phase, number>
const PHASES = (Object.keys(PHASE_ORDER) as Phase[]).sort((a, b) => PHASE_ORDER[a] - PHASE_ORDER[b])

export function markdownSummary(options: MarkdownSummaryOptions): ReporterFactory {
  return (ctx) => {
    const notices: string[] = []
    const timeline = new TimelineRecorder()
    // A summary that cannot be written (a full disk, a read-only folder) is reported by the
    // CLI as a lost report, naming the file; the rollout has ended by then and its exit code stands.
    const save = async (text: string) => {
      try {
        await mkdir(dirname(options.path), { recursive: true })
        if (options.append) await appendFile(options.path, text)
        else await writeFile(options.path, text)
      } catch (error) {
        throw lostSummary(options.path, error)
      }
    }
    const reporter: Reporter = {
      event(event) {
        // Everything else the summary shows is in the result; the times of the phases are not.
        timeline.apply(event, ctx.now())
      },
      notice(message) {
        notices.push(message)
      },
      end: (result) =>
        save(
          renderSummary(result, ctx.command, notices, options.maxRows ?? 200, {
            timeline: timeline.timeline(ctx.now()),
            rows: options.timelineRows ?? 50,
          }),
        ),
      fail: (error) => save(`## ❌ rolling ${ctx.command} ${cell(ctx.service)}: could not start\n\n> ${cell(messageOf(error))}\n\n`),
      interrupted(message) {
        // Synchronous: the process exits right after this returns.
        const text = `## ⏹️ rolling ${ctx.command} ${cell(ctx.service)}: interrupted\n\n> ${cell(message)}\n\n`
        try {
          mkdirSync(dirname(options.path), { recursive: true })
          if (options.append) appendFileSync(options.path, text)
          else writeFileSync(options.path, text)
        } catch (error) {
          throw lostSummary(options.path, error)
        }
      },
    }
    return reporter
  }
}

function lostSummary(path: string, error: unknown): Error {
  return new Error(`the Markdown summary was not written to ${path} (${messageOf(error)}); the rollout is not affected: the exit code says how it ended`, {
    cause: error,
  })
}

/** The summary of a run as Markdown. Every value from outside goes through `cell`/`code`: no raw HTML, no control byte. */
export function renderSummary(
  result: RolloutResult,
  command: string,
  notices: readonly string[] = [],
  maxRows = 200,
  chart: { timeline: Timeline | undefined; rows?: number } = { timeline: undefined },
): string {
  const build = result.artifact
  const warnings = result.warnings ?? []
  const warned = warnings.length > 0 ? ` (${countWarnings(warnings.length)})` : ''
  const lines = [
    `## ${ICON[result.status]} ${cell([result.service, build?.version].filter(Boolean).join(' '))}: ${result.status}${warned}`,
    '',
    `\`rolling ${command}\`, run ${markdownCode(result.runId)}: ${countOutcomes(result.targets.map((t) => t.outcome))} in ${result.batches} batch(es), ${formatDuration(result.durationMs)}.`,
  ]
  if (build) lines.push('', `Build **${cell(build.version)}**, built ${cell(build.builtAt)}, sha256 ${markdownCode(build.sha256.slice(0, 12))}.`)
  if (result.reason) lines.push('', `> **${result.status}**: ${cell(result.reason)}`)
  for (const notice of notices) lines.push('', `> ${cell(notice)}`)
  if (result.needsAttention.length > 0) {
    lines.push('', `**Needs attention** (left out of the load balancer): ${result.needsAttention.map((t) => markdownCode(t.id)).join(', ')}`)
  }
  const control = controlSummary(result)
  if (control.length > 0) lines.push('', '### Gates and pauses', '', ...control.map((l) => `- ${cell(l.trim())}`))
  if (warnings.length > 0) {
    lines.push('', `### ⚠️ Warnings (${warnings.length})`, '')
    for (const w of warnings) lines.push(`- **${w.kind}** ${markdownCode(w.target.id)} (${cell(addressOf(w.target))}): ${cell(warningText(w))}`)
  }

  const rows = result.targets.length > maxRows ? result.targets.filter((t) => t.outcome !== 'done') : result.targets
  lines.push('', '### Targets', '', '| target | address | outcome | batch | deploy | reason |', '| --- | --- | --- | --- | --- | --- |')
  for (const report of rows) {
    const deploy = report.timings.deploy === undefined ? '' : formatDuration(report.timings.deploy)
    const batch = report.batch < 0 ? 'verify' : String(report.batch + 1)
    const reason = report.reason ? cell(report.failedIn ? `${report.failedIn}: ${report.reason}` : report.reason) : ''
    lines.push(`| ${cell(report.target.id)} | ${cell(addressOf(report.target))} | ${report.outcome} | ${batch} | ${deploy} | ${reason} |`)
  }
  if (rows.length < result.targets.length) lines.push('', `${result.targets.length - rows.length} target(s) done, not listed.`)

  if (chart.timeline) {
    const title = `${[result.service, build?.version].filter(Boolean).join(' ')}, ${result.status}`
    lines.push('', '### Timeline', '', ...mermaidGantt(chart.timeline, { title, maxRows: chart.rows ?? 50 }))
  }

  const timings = phaseTimings(result.targets)
  if (timings.length > 0) {
    lines.push('', '### Phase timings', '', '| phase | targets | total | slowest |', '| --- | --- | --- | --- |')
    for (const t of timings) lines.push(`| ${t.phase} | ${t.targets} | ${formatDuration(t.total)} | ${formatDuration(t.slowest)} |`)
  }
  lines.push('', '')
  return lines.join('\n')
}

export interface PhaseTiming {
  phase: Phase
  targets: number
  total: number
  slowest: number
}

/** Time per phase across the targets: how many went through it, the sum and the slowest. */
export function phaseTimings(targets: readonly TargetReport[]): PhaseTiming[] {
  const out: PhaseTiming[] = []
  for (const phase of PHASES) {
    let count = 0
    let total = 0
    let slowest = 0
    for (const report of targets) {
      const ms = report.timings[phase]
      if (ms === undefined) continue
      count++
      total += ms
      slowest = Math.max(slowest, ms)
    }
    if (count > 0) out.push({ phase, targets: count, total, slowest })
  }
  return out
}

/** Text safe inside a table cell or a quote: one line, no control character, no HTML, no markup. */
function cell(text: string): string {
  return markdownText(text.replace(/\s*\n\s*/g, ' | '))
}
