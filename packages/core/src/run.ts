// The flow of a run: lock, resolve and verify the artifact, discover, plan,
// batches, verify, result. Shared by a new rollout and by `resume`, which enters
// the same flow at the batch the journal says was in flight.
import type { Target } from './types.js'
import type { Engine } from './engine.js'
import { type JournalRun, readJournal } from './journal-reader.js'
import type { RolloutResult, RolloutStatus } from './result.js'
import type { Amount } from './options.js'
import { ATTACHED, FINAL_STATES } from './engine.js'
import { runBatch, type Resumed } from './batch.js'
import type { AttachAs } from './phases/flight.js'
import { verify } from './phases/verify.js'
import { fleetCheck } from './phases/fleet-check.js'
import { eject } from './phases/eject.js'
import { discoverAll } from './discovery.js'
import { refuseUnfinished, resolveArtifact, takeLock } from './run-start.js'
import { finish } from './run-end.js'
import { prepareAhead, settlePreparations } from './prepare.js'
import { amountOf, planBatches } from './plan.js'
import { checkGates } from './phases/gate.js'
import { pauseAfter } from './phases/pause.js'
import { roomFor, spend } from './phases/budget.js'
import { armDeadline } from './phases/deadline.js'
import { resumedLate, rollLate } from './phases/late.js'
import { openPause, releasedPauses, skipOldMessages } from './pause.js'
import { RollingError, errorMessage, isAbortError } from './errors.js'

export interface NewRun {
  kind: 'new'
  ref: string
  batch: Amount | readonly Amount[] | undefined
  verify: boolean
}

export interface ResumedRun {
  kind: 'resume'
  verify: boolean
  state: JournalState
}

/** What the journal says about an interrupted run. */
export type JournalState = JournalRun

/** Reads an interrupted run from journal records (each checked); throws when there is none to resume. */
export function readJournalState(records: readonly unknown[], location: string): JournalState {
  const state = readJournal(records, location)
  if (!state) throw new RollingError('JOURNAL', `[rolling] no rollout to resume: the journal ${location} is empty`)
  if (state.end) {
    throw new RollingError('JOURNAL', `[rolling] no rollout to resume: run ${state.runId} in ${location} already ended (${state.end.status})`)
  }
  return state
}

/** Where a target recorded in `state` re-enters its batch ('eject': take it out again and fail it). */
function entryOf(recorded: { s: string; o?: string } | undefined): Resumed | 'final' | 'eject' {
  const s = recorded?.s
  if (s === undefined) return { entry: 'fresh' }
  if (FINAL_STATES.has(s)) return 'final'
  if (s === 'ejecting') return 'eject'
  if (s === 'deploying') return { entry: 'deploy' }
  if (s === 'deployed') return { entry: 'settle' }
  if (s === 'rolling-back') return { entry: 'rollback' }
  const as = recorded?.o as AttachAs | undefined
  if (s === 'attaching') return as === undefined ? { entry: 'attach' } : { entry: 'attach', as }
  if (s === 'holding') return as === undefined ? { entry: 'hold' } : { entry: 'hold', as }
  return { entry: 'detach' } // detaching, detached
}

export async function execute(engine: Engine, run: NewRun | ResumedRun): Promise<RolloutResult> {
  const startedAt = engine.clock.now()
  const resumed = run.kind === 'resume'
  engine.emitter.emit('rollout:start', { runId: engine.runId, service: engine.service, ref: resumed ? run.state.ref : run.ref, resumed })
  const lease = await takeLock(engine, resumed ? run.state.runId : undefined)
  let touched = false
  // The deadline counts from the run's first start, which a resumed run reads from its journal.
  const disarm = armDeadline(engine, resumed ? Date.parse(run.state.start.at) : startedAt)
  try {
    if (!resumed) await refuseUnfinished(engine)
    engine.artifact = await resolveArtifact(engine, resumed ? run.state.artifact.version : run.ref, resumed ? run.state.artifact : undefined)
    let batches: Target[][]
    let positions: number[][]
    if (resumed) {
      positions = run.state.batches
      batches = positions.map((batch) => batch.map((i) => run.state.targets[i] as Target))
      engine.excluded = run.state.excluded
    } else {
      const found = await engine.withContext(`discover on ${engine.lb.name}`, engine.timeouts.precheck, (ctx) => discoverAll(engine.lb, ctx))
      const candidates = found.targets
      engine.excluded = found.excluded
      if (candidates.length === 0) {
        const also = found.excluded.length > 0 ? ` (${found.excluded.length} registered target(s) are out of service by an operator's hand and left alone)` : ''
        throw new RollingError(
          'EMPTY_POOL',
          `[rolling:${engine.lb.name}] no target in service for ${engine.service}: nothing to deploy to (an empty pool is an error, not a success)${also}`,
        )
      }
      batches = planBatches(candidates, { batch: run.batch ?? 1, minHealthy: engine.minHealthy, zones: engine.control.zones })
      const index = new Map<string, number>()
      candidates.forEach((t, i) => {
        index.set(t.id, i)
      })
      positions = batches.map((b) => b.map((t) => index.get(t.id) as number))
      await engine.journal.reset()
      engine.write({
        type: 'start',
        runId: engine.runId,
        service: engine.service,
        ref: run.ref,
        at: new Date(engine.clock.now()).toISOString(),
        artifact: engine.artifact,
        targets: candidates,
        batches: positions,
        ...(found.excluded.length > 0 ? { excluded: found.excluded } : {}),
      })
    }
    touched = true
    const all = batches.flat()
    engine.planned = all.length
    engine.batchCount = batches.length
    batches.forEach((batch, b) => {
      batch.forEach((t, k) => {
        engine.index.set(t.id, (positions[b] as number[])[k] as number)
        engine.report(t, b)
      })
    })
    engine.emitter.emit('plan', { runId: engine.runId, artifact: engine.artifact, candidates: all, batches, excluded: engine.excluded })
    const control = engine.control
    control.budget = amountOf(control.maxFailures, all.length)
    await skipOldMessages({ control: control.channel, service: engine.service, seen: control.seen, log: engine.log })

    let status: RolloutStatus = 'succeeded'
    let reason: string | undefined
    const firstBatch = resumed ? Math.max(0, run.state.batch) : 0
    if (resumed) {
      control.released = releasedPauses(run.state.records)
      const open = openPause(run.state.records)
      if (open) control.open = { index: open.index, until: Date.parse(open.until) }
      reason = restoreOutcomes(engine, run.state, batches)
    }
    if (reason) status = 'halted'
    for (let b = firstBatch; b < batches.length && !reason; b++) {
      if (engine.stopping) break
      const batch = batches[b] as Target[]
      let entries: Map<string, Resumed> | undefined
      let targets: Target[] = batch
      if (resumed && b === run.state.batch) {
        entries = new Map()
        targets = []
        // The fleet check before the next batch ejects targets of any batch started so far.
        const ejecting = batches
          .slice(0, b + 1)
          .flat()
          .filter((t) => entryOf(run.state.states.get(engine.index.get(t.id) as number)) === 'eject')
        for (const t of batch) {
          const entry = entryOf(run.state.states.get(engine.index.get(t.id) as number))
          if (entry === 'final' || entry === 'eject') continue
          entries.set(t.id, entry)
          targets.push(t)
        }
        if (ejecting.length > 0) {
          await eject(
            engine,
            ejecting.map((target) => ({ target, reason: 'was being taken out of service as unhealthy when the run was interrupted' })),
            b,
            'gate',
          )
          ;[status, reason] = ['halted', `${ejecting.map((t) => t.id).join(', ')} failed a health check before the interruption`]
        }
      } else {
        if (b > 0) {
          const check = await fleetCheck(engine, b, batches[b - 1] as Target[], all)
          // A target failing the check counts against the failure budget like a failed deploy.
          const unhealthy = check.halt ?? spend(engine, check.failed, check.failure ?? '') ?? roomFor(engine, batch, all)
          if (unhealthy) {
            ;[status, reason] = ['halted', unhealthy]
            break
          }
        }
        try {
          await engine.hook('beforeBatch', { index: b, total: batches.length, targets: batch })
        } catch (error) {
          ;[status, reason] = ['halted', errorMessage(error)]
          break
        }
      }
      // A resumed batch that had finished before the crash goes straight to its gates and pause.
      if (targets.length > 0) {
        engine.write({ type: 'batch', i: b })
        const following = batches[b + 1]
        const end = await runBatch(engine, b, batches.length, targets, entries, following && (() => prepareAhead(engine, following, b + 1)))
        const over = end.halt ?? spend(engine, end.failed, end.failure ?? '')
        if (over) [status, reason] = ['halted', over]
        else if (!engine.stopping) {
          try {
            await engine.hook('afterBatch', { index: b, total: batches.length, targets: batch })
          } catch (error) {
            ;[status, reason] = ['halted', errorMessage(error)]
          }
        }
      }
      if (reason || engine.stopping) break
      const gate = await checkGates(engine, b, batches.length, b === batches.length - 1, batch)
      if (gate) [status, reason] = ['halted', gate]
      else await pauseAfter(engine, b, batches.length)
    }
    if (engine.stopping) [status, reason] = ['aborted', reason ? `${abortMessage(engine)}; ${reason}` : abortMessage(engine)]
    if (status === 'succeeded' && run.verify) {
      const resumedStops = resumed
        ? [...run.state.extra.values()]
            .filter((e) => e.s === 'stopping')
            .map((e) => e.target)
            .concat(run.state.targets.filter((_, i) => run.state.states.get(i)?.s === 'stopping'))
        : []
      const end = await verify(engine, all, resumedStops)
      if (end.failed) [status, reason] = ['failed', end.failed]
      const found = end.late ?? []
      const late = [...found, ...(resumed ? resumedLate(run.state).filter((l) => !found.some((t) => t.id === l.target.id)) : [])]
      if (late.length > 0) {
        const lateEnd = await rollLate(engine, late, resumed ? undefined : run.batch)
        if (lateEnd.aborted && status === 'succeeded') [status, reason] = ['aborted', abortMessage(engine)]
        else if (lateEnd.failed && status === 'succeeded') [status, reason] = ['failed', lateEnd.failed]
      }
    }
    if (status === 'succeeded' && control.failures.length > 0) {
      const ids = control.failures.slice(0, 5).map((t) => t.id)
      status = 'degraded'
      reason = `${control.failures.length} target(s) failed within the failure budget (maxFailures ${control.budget}) and are left out: ${ids.join(', ')}${control.failures.length > 5 ? ', ...' : ''}`
    }
    return await finish(engine, startedAt, status, reason)
  } catch (error) {
    if (!touched) throw error
    const status: RolloutStatus = isAbortError(error) || engine.cancelSignal.aborted ? 'aborted' : 'failed'
    return await finish(engine, startedAt, status, errorMessage(error), error instanceof Error ? error : new Error(String(error)))
  } finally {
    disarm()
    await settlePreparations(engine)
    await lease.release().catch((error: unknown) => engine.log.warn(`[rolling] could not release the lock: ${errorMessage(error)}`))
    await engine.executor.close?.().catch(() => undefined)
  }
}

function abortMessage(engine: Engine): string {
  const reason: unknown = engine.stopSignal.reason
  return reason instanceof Error ? reason.message : typeof reason === 'string' ? `aborted: ${reason}` : 'aborted'
}

/** Outcomes recorded before the crash; returns a halt reason when one had already failed. */
function restoreOutcomes(engine: Engine, state: JournalState, batches: Target[][]): string | undefined {
  let halt: string | undefined
  batches.forEach((batch, b) => {
    for (const t of batch) {
      const s = state.states.get(engine.index.get(t.id) as number)?.s
      if (!s || !FINAL_STATES.has(s)) continue
      const report = engine.report(t, b)
      report.outcome = s as typeof report.outcome
      report.reason = 'recorded before the interruption'
      if (ATTACHED.has(report.outcome)) engine.attachedInOrder.push(t)
      if (s === 'failed' || s === 'rolled-back') {
        // Within the failure budget a failure recorded before the crash is spent again, not a halt.
        halt ??= spend(engine, [t], `${t.id} failed before the interruption`)
      }
    }
  })
  return halt
}
