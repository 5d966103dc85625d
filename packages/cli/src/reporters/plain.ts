// The plain reporter: one line per meaningful event, prefixed with the time since the
// run started, for CI logs and pipes. Host output is shown only when asked for, each
// line prefixed by its target id. Ends with the outcome counts and the exit status.
import type { RolloutEvent, RolloutResult } from '@org/rolling-core'
import type { Reporter, ReporterFactory } from './reporter.js'
import { controlSummary, countOutcomes, countWarnings, describe, formatDuration, listIds, oneLine, warnedIds, warningText } from './format.js'
import { describeExit, exitCodeOfResult } from '../exit-codes.js'
import { exitCodeOfError, messageOf } from '../errors.js'
import { safeLine, safeOutput } from '../safe-text.js'

export interface PlainReporterOptions {
  /** Print the hosts' command output (`target:output`), each line prefixed by the target id. @default false */
  output?: boolean
}

export function plainReporter(options: PlainReporterOptions = {}): ReporterFactory {
  return (ctx) => {
    const started = ctx.now()
    let version: string | undefined
    // Output arrives in chunks; a line is printed once complete, so two hosts never interleave mid-line.
    const partial = new Map<string, string>()

    // Every line passes here: whatever an id, a reason or a host put in it, no control
    // character reaches the terminal, and no newline inside a value can forge a line.
    const line = (text: string) => {
      const elapsed = `${((ctx.now() - started) / 1000).toFixed(1)}s`
      ctx.out.write(`${elapsed.padStart(7)}  ${safeLine(text)}\n`)
    }
    const flushOutput = () => {
      for (const [key, rest] of partial) if (rest !== '') line(`${key.slice(0, key.lastIndexOf('\0'))} | ${rest}`)
      partial.clear()
    }

    /** The line an event prints, if any. */
    const describeEvent = (event: RolloutEvent): string | string[] | undefined => {
      switch (event.type) {
        case 'rollout:start':
          return event.resumed
            ? `resume ${event.service}: run ${event.runId}, build ${event.ref}`
            : `${ctx.command} ${event.service}: build ${event.ref}, run ${event.runId}`
        case 'plan':
          version = event.artifact.version
          return `plan: ${event.artifact.version} (built ${event.artifact.builtAt}) to ${event.candidates.length} target(s) in ${event.batches.length} batch(es)`
        case 'batch:start':
          return `batch ${event.index + 1}/${event.total}: ${listIds(event.targets)}`
        case 'fleet:check':
          return `fleet check before batch ${event.batch + 1}: ${event.targets.length} target(s)`
        case 'fleet:unhealthy':
          return [
            `fleet unhealthy before batch ${event.batch + 1}: ${event.healthy} healthy in service, at least ${event.minHealthy} needed`,
            ...event.failing.map((f) => `${describe(f.target)} failing: ${oneLine(f.reason)}`),
          ]
        case 'target:precheck':
        case 'target:detaching':
        case 'target:attaching':
          // Start events: the line that follows (`detached`, `skipped`) says how it went.
          return undefined
        case 'target:holding':
          return `${event.target.id} attached, held ${formatDuration(event.holdMs)} before its batch counts`
        case 'target:skipped':
          return `${event.target.id} skipped: ${oneLine(event.reason)}`
        case 'target:detached':
          return `${event.target.id} detached`
        case 'target:deploying':
          return `${event.target.id} deploying ${event.artifact.version}`
        case 'target:output': {
          if (!options.output) return undefined
          const key = `${event.target.id}\0${event.stream}`
          // Escapes dropped before the split: a host's colours are noise in a log, its ESC[2J an attack.
          const lines = ((partial.get(key) ?? '') + safeOutput(event.chunk)).split('\n')
          partial.set(key, lines.pop() as string)
          return lines.length > 0 ? lines.map((text) => `${event.target.id} | ${text}`) : undefined
        }
        case 'target:deployed':
          return `${event.target.id} deployed in ${formatDuration(event.durationMs)}`
        case 'target:healthy':
          return `${event.target.id} healthy${event.health.version ? ` on ${event.health.version}` : ''}`
        case 'target:unhealthy':
          return `${event.target.id} unhealthy: ${oneLine(event.reason)}`
        case 'target:attached':
          return `${event.target.id} attached`
        case 'target:failed':
          return `${event.target.id} FAILED in ${event.phase}: ${oneLine(event.reason)}`
        case 'target:rolling-back':
          return `${event.target.id} rolling back to its previous build`
        case 'target:rolled-back':
          return `${event.target.id} rolled back to its previous build`
        case 'batch:end':
          return `batch ${event.index + 1}/${event.total} ended: ${countOutcomes(Object.values(event.outcomes))}`
        case 'verify:start':
          return `verify: ${event.targets.length} target(s) should run ${version ?? 'the new build'}`
        case 'verify:mismatch':
          return `${event.target.id} runs ${event.actual.version ?? 'an unknown build'}, expected ${event.expected.version} (from ${event.source})`
        case 'target:stopped':
          return `${event.target.id} stopped: ${oneLine(event.reason)}`
        case 'gate:start':
          return undefined // its end says what it saw
        case 'gate:end':
          return `gate ${event.gate} ${event.passed ? 'passed' : 'FAILED'} ${whereGate(event)} in ${formatDuration(event.durationMs)}: ${oneLine(event.detail)}`
        case 'pause:start':
          return `${event.resumed ? 'paused again' : 'paused'} after batch ${event.index + 1}/${event.total}, every target in service: waiting for \`rolling approve\` or \`rolling abort\`${event.control ? ` (through ${event.control})` : ''}; at ${new Date(event.until).toISOString()} it will ${event.onTimeout === 'approve' ? 'go on' : 'abort'}`
        case 'pause:end':
          return `pause after batch ${event.index + 1}/${event.total} ended: ${event.how}${event.by ? ` by ${event.by}` : ''}${event.note ? ` (${oneLine(event.note)})` : ''}`
        case 'budget:spent':
          return `${event.target.id} failed within the failure budget (${event.failures} of ${event.budget} spent): left out of the load balancer, the rollout goes on`
        case 'warning':
          return `warning: ${event.target ? `${event.target.id}: ` : ''}${oneLine(event.message)}`
        case 'log':
          return event.level === 'error' ? `error: ${oneLine(event.message)}` : undefined
        case 'listener:error':
          return `warning: a listener of '${event.event}' threw: ${oneLine(messageOf(event.error))}`
        case 'rollout:end':
          return undefined // end() prints the summary
        default:
          return event satisfies never
      }
    }

    const reporter: Reporter = {
      event(event) {
        const text = describeEvent(event)
        if (text !== undefined) for (const one of typeof text === 'string' ? [text] : text) line(one)
      },
      notice: (message) => line(message),
      end(result: RolloutResult) {
        flushOutput()
        const build = result.artifact?.version ?? 'the build'
        line(result.reason ? `${result.status}: ${oneLine(result.reason)}` : `${result.status}: ${build} on ${result.targets.length} target(s)`)
        line(
          `targets: ${countOutcomes(result.targets.map((t) => t.outcome))} (${result.targets.length} in ${result.batches} batch(es), ${formatDuration(result.durationMs)})`,
        )
        for (const l of summaryLines(result)) line(l)
        if (ctx.statusHint) line(`\`${ctx.statusHint}\` shows this rollout again`)
        line(`exit ${exitCodeOfResult(result, ctx.strict)} (${describeExit(result, ctx.strict)})`)
      },
      fail(error: unknown) {
        flushOutput()
        line(`could not start: ${oneLine(messageOf(error))}`)
        line(`exit ${exitCodeOfError(error)}`)
      },
    }
    return reporter
  }
}

/** Where a gate was checked, as a report says it. */
export function whereGate(event: { batch: number; total: number; final: boolean }): string {
  return event.final ? 'at the end' : `after batch ${event.batch + 1}/${event.total}`
}

/**
 * The lines under the counts: failed targets (left out of the load balancer), the other
 * targets not done that no warning covers, the warnings (each target named once), and what
 * else needs a human.
 */
export function summaryLines(result: RolloutResult): string[] {
  const lines: string[] = []
  const warned = warnedIds(result)
  for (const report of result.targets) {
    if (report.outcome === 'failed')
      lines.push(
        `needs attention: ${describe(report.target)} failed in ${report.failedIn ?? 'deploy'}, left out of the load balancer: ${oneLine(report.reason ?? '')}`,
      )
    else if (report.outcome !== 'done' && report.outcome !== 'pending' && !warned.has(report.target.id))
      lines.push(`${report.outcome}: ${describe(report.target)}: ${oneLine(report.reason ?? '')}`)
  }
  const warnings = result.warnings ?? []
  if (warnings.length > 0) {
    lines.push(`⚠ ${countWarnings(warnings.length)}:`)
    for (const w of warnings) lines.push(`  ${w.kind}: ${describe(w.target)}: ${oneLine(warningText(w))}`)
  }
  const failed = new Set(result.targets.filter((r) => r.outcome === 'failed').map((r) => r.target.id))
  const others = result.needsAttention.filter((t) => !failed.has(t.id))
  if (others.length > 0) lines.push(`needs attention (not back in service): ${others.map((t) => describe(t)).join(', ')}`)
  lines.push(...controlSummary(result))
  return lines
}
