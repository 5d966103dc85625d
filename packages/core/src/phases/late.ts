// Late joiners (`verify: { onMismatch: 'deploy' }`): a target verify finds in service on
// another build that the plan did not hold (an autoscaling instance launched from an old
// image) is rolled like any other: in batches of the rollout's size, each pre-checked,
// detached, deployed, settled and attached. Their journal records are the verify phase's
// own (`v`), so a resumed run finds one left mid-way and finishes it. `maxStopped` counts
// only those that fail.
import type { Target } from '../types.js'
import type { Engine } from '../engine.js'
import type { Amount } from '../options.js'
import type { JournalRun } from '../journal-reader.js'
import { type Resumed, runBatch } from '../batch.js'
import { batchSizes, splitBatches } from '../plan.js'
import { FINAL_STATES } from '../target-state.js'
import { describeTarget } from '../errors.js'

export interface LateEnd {
  /** More late joiners failed than `maxStopped`. */
  failed?: string
  /** The run was stopped before every late joiner was rolled. */
  aborted?: boolean
}

/** Late joiners a crashed run had begun to roll: out of service mid-way, to finish. */
export function resumedLate(state: JournalRun): { target: Target; resumed: Resumed }[] {
  const out: { target: Target; resumed: Resumed }[] = []
  for (const { target, s } of state.extra.values()) {
    if (FINAL_STATES.has(s) || s === 'stopping' || s === 'ejecting') continue
    const entry =
      s === 'deploying'
        ? 'deploy'
        : s === 'deployed'
          ? 'settle'
          : s === 'rolling-back'
            ? 'rollback'
            : s === 'attaching'
              ? 'attach'
              : s === 'holding'
                ? 'hold'
                : 'detach'
    out.push({ target, resumed: { entry } })
  }
  return out
}

export async function rollLate(
  engine: Engine,
  late: readonly (Target | { target: Target; resumed: Resumed })[],
  batch: Amount | readonly Amount[] | undefined,
): Promise<LateEnd> {
  const targets = late.map((l) => ('resumed' in l ? l.target : l))
  const entries = new Map<string, Resumed>()
  for (const l of late) if ('resumed' in l) entries.set(l.target.id, l.resumed)
  const batches = splitBatches(targets, batchSizes(targets.length, batch ?? 1))
  const first = engine.batchCount
  const total = first + batches.length
  engine.log.info(`[rolling] verify found ${targets.length} target(s) on another build that the plan did not hold: deploying them (verify.onMismatch 'deploy')`)
  for (const [k, group] of batches.entries()) {
    if (engine.stopping) return { aborted: true }
    await runBatch(engine, first + k, total, group, entries.size > 0 ? entries : undefined)
  }
  const failed = targets.filter((t) => engine.report(t, -1).outcome === 'failed' || engine.report(t, -1).outcome === 'rolled-back')
  if (failed.length > engine.maxStopped) {
    return {
      failed: `${failed.length} late joiner(s) failed to deploy, more than maxStopped (${engine.maxStopped}): ${failed.slice(0, 5).map(describeTarget).join(', ')}`,
    }
  }
  return engine.stopping && targets.some((t) => engine.report(t, -1).outcome === 'pending') ? { aborted: true } : {}
}
