// Gates between batches: a check of something outside the fleet (alarms, a metrics query,
// a smoke test) that must pass after a batch is back in service and before the next one is
// taken out, and once at the end. The runner polls a gate on the engine's clock until it
// passes (for `bake` ms in a row), fails, or its deadline passes.
import type { AdapterContext, Artifact } from '../types.js'
import { formatMs } from '../clock.js'
import { RollingError, errorMessage, isAbortError } from '../errors.js'
import { waitUntil } from '../waiter.js'

/** What the engine tells a gate about the moment it is checked. */
export interface GateContext extends AdapterContext {
  service: string
  runId: string
  artifact: Artifact
  /** 0-based index of the batch just attached; equals `total` for the check at the end. */
  batch: number
  total: number
  /** True for the check after the last batch. */
  final: boolean
}

/**
 * - `pass`: fine now (the runner keeps asking for `bake` ms before the gate counts);
 * - `fail`: halt the rollout, `detail` says what the gate saw;
 * - `wait`: not decided yet (no data, a throttled API): ask again until the deadline.
 */
export type GateState = 'pass' | 'fail' | 'wait'

export interface GateVerdict {
  state: GateState
  /** What the gate saw, for reports: `alarm checkout-5xx is ALARM (Threshold Crossed: ...)`. */
  detail: string
}

export interface Gate {
  /** Names the gate in events, the journal and reports: `cloudwatch`, `http`, `prometheus`. */
  readonly name: string
  /** Must not throw for a state it can judge; a throw counts as `fail` with the error's message. */
  check(ctx: GateContext): Promise<GateVerdict>
  /** Keep watching the gate this long before it passes. @default the rollout's `bake` */
  readonly bake?: number
  /** Time between checks. @default 5000 */
  readonly interval?: number
  /** Give up (fail) when still `wait` after this long. @default the rollout's `timeouts.gate` */
  readonly timeout?: number
}

export interface GateRunOptions {
  bake: number
  timeoutMs: number
  signal: AbortSignal
}

export interface GateOutcome {
  gate: string
  passed: boolean
  detail: string
  /** Clock ms from the first check to the verdict. */
  durationMs: number
  checks: number
}

export const DEFAULT_GATE_INTERVAL = 5000

/**
 * Runs one gate to a verdict. A pass counts once the gate has said `pass` at every check for
 * `bake` ms (a `wait` restarts the count, a `fail` ends it); the last check of the bake happens
 * at its end, so a gate that turns bad during the bake is seen. Only an abort rejects.
 */
export async function runGate(gate: Gate, ctx: Omit<GateContext, 'signal' | 'deadline'>, options: GateRunOptions): Promise<GateOutcome> {
  const clock = ctx.clock
  const bake = gate.bake ?? options.bake
  const interval = gate.interval ?? DEFAULT_GATE_INTERVAL
  const timeoutMs = gate.timeout ?? options.timeoutMs
  const started = clock.now()
  let passingSince: number | undefined
  let checks = 0
  let last = ''
  const outcome = (passed: boolean, detail: string): GateOutcome => ({ gate: gate.name, passed, detail, durationMs: clock.now() - started, checks })
  try {
    const verdict = await waitUntil<GateOutcome>(
      async () => {
        checks++
        const seen = await ask(gate, { ...ctx, signal: options.signal, deadline: started + timeoutMs })
        last = seen.detail
        if (seen.state === 'fail') return { state: 'done', value: outcome(false, seen.detail) }
        if (seen.state === 'wait') {
          passingSince = undefined
          return { state: 'retry', observed: seen.detail }
        }
        passingSince ??= clock.now()
        if (clock.now() - passingSince >= bake) return { state: 'done', value: outcome(true, seen.detail) }
        return { state: 'retry', observed: `${seen.detail} (baking, ${formatMs(bake - (clock.now() - passingSince))} left)` }
      },
      {
        what: `gate ${gate.name}`,
        // The bake must fit in the deadline: a gate that passes at the deadline's last try
        // still owes its bake.
        timeoutMs: timeoutMs + bake,
        minDelayMs: Math.min(interval, Math.max(1, bake || interval)),
        maxDelayMs: interval,
        factor: 1,
        jitter: 0,
        signal: options.signal,
        clock,
        // Sleep no later than the bake's end, so the gate passes when it is over.
        get expectAt() {
          return passingSince === undefined ? undefined : passingSince + bake
        },
      },
    )
    return verdict
  } catch (error) {
    if (isAbortError(error) || options.signal.aborted) throw error
    if (error instanceof RollingError && error.code === 'TIMEOUT') {
      return outcome(false, `still undecided after ${formatMs(timeoutMs)}: ${last || 'no answer'}`)
    }
    return outcome(false, errorMessage(error))
  }
}

async function ask(gate: Gate, ctx: GateContext): Promise<GateVerdict> {
  try {
    const verdict = await gate.check(ctx)
    if (!verdict || (verdict.state !== 'pass' && verdict.state !== 'fail' && verdict.state !== 'wait')) {
      return { state: 'fail', detail: `gate ${gate.name} answered ${JSON.stringify(verdict)}, not { state: 'pass' | 'fail' | 'wait' }` }
    }
    return { state: verdict.state, detail: String(verdict.detail ?? verdict.state) }
  } catch (error) {
    if (ctx.signal.aborted) throw error
    return { state: 'fail', detail: `gate ${gate.name} could not be checked: ${errorMessage(error)}` }
  }
}

/** Runs every gate in order; stops at the first that fails. */
export async function runGates(
  gates: readonly Gate[],
  ctx: Omit<GateContext, 'signal' | 'deadline'>,
  options: GateRunOptions,
  onOutcome?: (outcome: GateOutcome) => void,
): Promise<GateOutcome[]> {
  const outcomes: GateOutcome[] = []
  for (const gate of gates) {
    const outcome = await runGate(gate, ctx, options)
    outcomes.push(outcome)
    onOutcome?.(outcome)
    if (!outcome.passed) break
  }
  return outcomes
}

/** A halt reason naming the gate and what it saw. */
export function gateFailure(outcome: GateOutcome, batch: number, total: number): string {
  const where = batch >= total ? 'after the last batch' : `after batch ${batch + 1} of ${total}`
  return `gate ${outcome.gate} failed ${where}: ${outcome.detail}`
}
