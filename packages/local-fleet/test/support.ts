// Helpers shared by the local fleet's tests: a rollout wired to a fleet, recipe step
// arguments for calling a step by hand, and the process checks behind "no zombies".
import { readFileSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { rollout, systemClock, type AdapterContext, type Artifact, type RolloutOptions, type StepArgs, type Target } from '@org/rolling-core'
import type { Fleet } from '../src/index.js'

export const silent = { debug() {}, info() {}, warn() {}, error() {} }
export const context = (): AdapterContext => ({ signal: new AbortController().signal, clock: systemClock, log: silent })

/** A rollout of the fleet's latest build through its recipe: batch 1, fast settle. */
export function rolloutOn(fleet: Fleet, extra: Partial<RolloutOptions> = {}) {
  return rollout({
    service: fleet.service,
    loadBalancer: fleet.lb,
    artifacts: fleet.artifacts,
    executor: fleet.executor,
    deploy: fleet.recipe,
    batch: 1,
    settle: { interval: 200, successes: 2, deadline: 15_000 },
    stateDir: join(fleet.dir, 'state'),
    ...extra,
  })
}

/** Arguments to call a recipe step on `target` outside a rollout, through the fleet's executor. */
export function stepArgs(fleet: Fleet, target: Target, artifact: Artifact): StepArgs {
  const ctx = context()
  return stepArgsWith((request) => fleet.executor.run(target, request, ctx), target, artifact, ctx)
}

/** Arguments to call a recipe step whose commands go to `run`; `exec` throws on a non-zero exit. */
export function stepArgsWith(run: StepArgs['run'], target: Target, artifact: Artifact, ctx: AdapterContext): StepArgs {
  return {
    target,
    artifact,
    run,
    async exec(request) {
      const result = await run(request)
      if (result.exitCode !== 0) throw new Error(`exit ${result.exitCode}: ${result.stderr.trim()}`)
      return result
    },
    signal: ctx.signal,
    clock: ctx.clock,
    log: ctx.log,
    ctx,
  }
}

/** What a host's app answers on `_status`. */
export async function status(target: Target): Promise<{ code: number; version?: string; pid?: number }> {
  const response = await fetch(`http://${target.address}:${target.port}/_status`)
  const body = (await response.json()) as { version?: string; pid?: number }
  return { code: response.status, ...body }
}

/** State letter of a process (R, S, Z, ...) from /proc, or undefined when it is gone. */
export function processState(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '')[0]
  } catch {
    return undefined
  }
}

/** Pids of live processes whose command line mentions `text`. */
export function processesMentioning(text: string): number[] {
  const found: number[] = []
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').includes(text)) found.push(Number(entry))
    } catch {
      // Gone meanwhile.
    }
  }
  return found
}
