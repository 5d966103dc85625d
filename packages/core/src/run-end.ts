// The end of a run: its `end` record, and the result with every target, what needs a human
// and the warnings a `succeeded` rollout still carries.
import type { Engine } from './engine.js'
import type { RolloutResult, RolloutStatus, RolloutWarning } from './result.js'
import { ALREADY_ON } from './phases/precheck.js'

/** Every target a user must know about, even in a `succeeded` result, one line each. */
function warningsOf(engine: Engine): RolloutWarning[] {
  const warnings: RolloutWarning[] = engine.excluded.map(({ target, reason }) => ({ kind: 'excluded', target, message: `excluded: ${reason}` }))
  for (const report of engine.reports.values()) {
    const reason = report.reason ?? ''
    // A target already on the build is what a re-run wants, not something to look at.
    if (report.outcome === 'skipped' && !reason.startsWith(ALREADY_ON)) warnings.push({ kind: 'skipped', target: report.target, message: `skipped: ${reason}` })
    else if (report.outcome === 'stopped') warnings.push({ kind: 'stopped', target: report.target, message: `stopped: ${reason}` })
    else if (report.outcome === 'unverified')
      warnings.push({ kind: 'unverified', target: report.target, message: `unverified: ${reason || 'its build was never confirmed'}` })
  }
  return warnings.concat(engine.warnings)
}

export async function finish(engine: Engine, startedAt: number, status: RolloutStatus, reason?: string, error?: Error): Promise<RolloutResult> {
  engine.write({ type: 'end', status, at: new Date(engine.clock.now()).toISOString() })
  // No result before its record is durable: a journal that cannot say the run ended (a lost
  // lease, S3 unreachable) rejects the run instead, and `resume` still sees it unfinished.
  await engine.durable()
  const targets = [...engine.reports.values()]
  const endedAt = engine.clock.now()
  const needsAttention = targets.filter((r) => r.outcome === 'failed').map((r) => r.target)
  for (const target of engine.attention.values()) if (!needsAttention.includes(target)) needsAttention.push(target)
  const result: RolloutResult = {
    status,
    runId: engine.runId,
    service: engine.service,
    artifact: engine.artifact,
    targets,
    needsAttention,
    excluded: engine.excluded,
    warnings: warningsOf(engine),
    batches: engine.batchCount,
    startedAt,
    endedAt,
    durationMs: endedAt - startedAt,
  }
  if (reason !== undefined) result.reason = reason
  if (engine.control.gateOutcomes.length > 0) result.gates = engine.control.gateOutcomes
  if (engine.control.pauses.length > 0) result.pauses = engine.control.pauses
  if (error) result.error = error
  engine.emitter.emit('rollout:end', { result })
  return result
}
