// One batch: pre-check each target, detach the passing ones in one call, deploy and
// settle each, attach the healthy ones in one call, hold them when asked. A target whose
// new build fails stays detached for manual verification (or is rolled back on request).
// Each phase lives in phases/<phase>.ts; this file only orders them.
import type { Target } from './types.js'
import type { Engine } from './engine.js'
import type { TargetOutcome } from './result.js'
import { describeTarget } from './errors.js'
import { prepared } from './prepare.js'
import type { AttachAs, Entry, Flight } from './phases/flight.js'
import { skip } from './phases/flight.js'
import { precheck } from './phases/precheck.js'
import { detach } from './phases/detach.js'
import { deploy } from './phases/deploy.js'
import { settle } from './phases/settle.js'
import { attach } from './phases/attach.js'
import { hold } from './phases/hold.js'
import { restoreIfHealthy, rollback } from './phases/rollback.js'

export type { Entry } from './phases/flight.js'

/** Where a resumed target re-enters, and the outcome it was being attached (or held) as. */
export interface Resumed {
  entry: Entry
  as?: AttachAs
}

/** Entries that go through the deploy step. */
const DEPLOYS: ReadonlySet<Entry> = new Set(['fresh', 'detach', 'deploy'])
/** Entries whose target this rollout has not yet (surely) detached. */
const DETACHES: ReadonlySet<Entry> = new Set(['fresh', 'detach'])

export interface BatchEnd {
  /** Why no further batch may start, whatever the failure budget, if so. */
  halt?: string
  /** Targets that failed their new build (failed, or rolled back): the failure budget decides. */
  failed: Target[]
  /** What the first of them failed at, as a halt reason. */
  failure?: string
}

/**
 * Runs one batch. `next` is called once this batch's targets are out of service (their
 * deploy, start-up and settle then mostly wait on the hosts), so the caller prepares the next
 * batch meanwhile: with an attach that takes milliseconds, a later start would leave each
 * batch waiting for its own prepare.
 */
export async function runBatch(
  engine: Engine,
  index: number,
  total: number,
  targets: readonly Target[],
  resumed?: ReadonlyMap<string, Resumed>,
  next?: () => void,
): Promise<BatchEnd> {
  let nextStarted = false
  const startNext = () => {
    if (nextStarted) return
    nextStarted = true
    next?.()
  }
  const flights: Flight[] = targets.map((target) => {
    engine.report(target, index)
    const entry = resumed?.get(target.id)
    const f: Flight = { target, entry: entry?.entry ?? 'fresh', over: false }
    if (entry?.as !== undefined) f.attachAs = entry.as
    return f
  })
  engine.emitter.emit('batch:start', { index, total, targets })
  const halts: string[] = []

  const fresh = flights.filter((f) => f.entry === 'fresh')
  if (engine.stopping) for (const f of fresh) f.over = true
  else if (fresh.length > 0) {
    const shared = engine.shared(`pre-check of batch ${index + 1}`, engine.timeouts.precheck)
    await Promise.all(fresh.map((f) => precheck(engine, f, index, shared))).finally(shared.dispose)
  }

  if (engine.recipe.prepare && !engine.stopping) {
    for (const { target, reason } of await prepared(
      engine,
      fresh.filter((f) => !f.over).map((f) => f.target),
      index,
    )) {
      skip(engine, flights.find((x) => x.target === target) as Flight, index, reason, 'prepare')
      halts.push(`${describeTarget(target)}: ${reason}`)
    }
  }

  const out = flights.filter((f) => !f.over)
  let held: Flight[] = []
  if (out.length > 0) {
    const detaching = out.filter((f) => DETACHES.has(f.entry))
    const detached = detaching.length > 0 ? await detach(engine, detaching, index) : { undrained: [] }
    if (detached.halt) halts.push(detached.halt)
    startNext()
    const undrained = new Set(detached.undrained)
    // Undrained targets go back in service on their old build while their batch-mates deploy.
    const putBack = undrained.size > 0 ? attach(engine, detached.undrained, index) : Promise.resolve([])
    // A failed detach marked its targets restored (or failed): they are not deployed.
    const going = out.filter((f) => !f.over && !(DETACHES.has(f.entry) && f.attachAs !== undefined))
    if (going.length > 0) await deployAll(engine, going, index)
    await putBack
    const settled = out.filter((f) => !f.over && f.attachAs !== undefined && !undrained.has(f))
    held = await attach(
      engine,
      settled.filter((f) => f.entry !== 'hold'),
      index,
    )
    held.push(...settled.filter((f) => f.entry === 'hold'))
  }
  startNext()
  let failure = await hold(engine, held, index)

  const outcomes: Record<string, TargetOutcome> = {}
  const failed: Target[] = []
  for (const f of flights) {
    const report = engine.report(f.target, index)
    outcomes[f.target.id] = report.outcome
    if (report.outcome === 'failed' || report.outcome === 'rolled-back') {
      failed.push(f.target)
      failure ??= `${describeTarget(f.target)} failed its ${report.failedIn ?? 'deploy'}`
    }
  }
  engine.emitter.emit('batch:end', { index, total, outcomes })
  const end: BatchEnd = { failed }
  if (halts.length > 0) end.halt = halts.join('; ')
  if (failure !== undefined) end.failure = failure
  return end
}

/** Deploys and settles the detached flights; they share one deploy and one settle deadline. */
async function deployAll(engine: Engine, flights: Flight[], index: number): Promise<void> {
  // The deploys start together after the detach, so they share one deadline; so do the
  // settle checks, bounded by the deploy, the settle deadline and one last check.
  const deploys = engine.shared(`deploy of batch ${index + 1}`, engine.timeouts.deploy)
  const checks = engine.shared(
    `settle of batch ${index + 1}`,
    engine.timeouts.deploy + Math.max(engine.settle.delay, engine.settle.deadline) + engine.timeouts.precheck,
  )
  // All deploys start now: one journal write says so for the whole batch.
  if (!engine.stopping)
    engine.recordAll(
      flights.filter((f) => DEPLOYS.has(f.entry)).map((f) => f.target),
      'deploying',
    )
  try {
    await Promise.all(
      flights.map(async (f) => {
        if (f.entry === 'attach' || f.entry === 'hold') {
          f.attachAs ??= 'done'
          return
        }
        if (f.entry === 'rollback') return rollback(engine, f, index, 'resumed an interrupted rollback')
        if (f.entry !== 'settle') {
          if (engine.stopping) return restoreIfHealthy(engine, f, 'aborted before deploy', 'deploy')
          if (!(await deploy(engine, f, index, deploys))) return
        }
        await settle(engine, f, index, checks)
      }),
    )
  } finally {
    deploys.dispose()
    checks.dispose()
  }
}
