// A rollout's events as an OpenTelemetry trace: a span for the rollout, a child per batch
// (and per fleet check, and for verify), a child of its batch per target, and a child of
// the target per phase. Where phases start and end comes from the core's PhaseTracker,
// the one reading the CLI's timeline shares. Only `@opentelemetry/api` is used: any SDK
// (or none: then every span is a no-op) can be behind the tracer.
import { type Attributes, type Context, type Span, SpanStatusCode, type Tracer, context as otelContext, trace } from '@opentelemetry/api'
import { PhaseTracker, type RolloutEvent, type RolloutResult, type Target } from '@org/rolling-core'
import { ATTR } from './attributes.js'

export interface RolloutTracerOptions {
  /** Where spans go: `provider.getTracer('@org/rolling-otel')`, or `trace.getTracer(...)` for the global provider. */
  tracer: Tracer
  /** Wall-clock milliseconds for span times; the rollout's clock in tests. @default Date.now */
  now?: () => number
  /** The context the rollout span is started in (its parent, when any). @default the active context */
  context?: Context
}

export interface RolloutTracer {
  /** Every event of the run, in order (`run.subscribe(tracer.event)`). */
  event(event: RolloutEvent): void
  /**
   * Ends every span still open, with `reason` on the rollout span: for a run that could not
   * start or was left unfinished (no `rollout:end` came). Does nothing once all are ended.
   */
  close(reason: string): void
}

/** A failure as the exception event of a span (OpenTelemetry's `exception` event). */
function fail(span: Span, reason: string, type = 'RolloutFailure'): void {
  span.setStatus({ code: SpanStatusCode.ERROR, message: reason })
  span.recordException({ name: type, message: reason })
}

function targetAttributes(target: Target): Attributes {
  const a: Attributes = { [ATTR.targetId]: target.id, [ATTR.targetAddress]: target.address }
  if (target.port !== undefined) a[ATTR.targetPort] = target.port
  return a
}

export function rolloutTracer(options: RolloutTracerOptions): RolloutTracer {
  const { tracer } = options
  const now = options.now ?? Date.now
  const phases = new PhaseTracker()
  let root: Span | undefined
  let service: string | undefined
  let version: string | undefined
  let gate: Span | undefined
  let verify: Span | undefined
  let over = false
  const batches = new Map<number, Span>()
  const targets = new Map<string, { span: Span; batch: number }>()
  const open = new Map<string, Span>()

  const base = () => options.context ?? otelContext.active()
  const common = (): Attributes => ({ ...(service ? { [ATTR.service]: service } : {}), ...(version ? { [ATTR.version]: version } : {}) })
  const start = (name: string, parent: Span | undefined, attributes: Attributes, at: number): Span =>
    tracer.startSpan(name, { startTime: at, attributes: { ...common(), ...attributes } }, parent ? trace.setSpan(base(), parent) : base())
  const rootSpan = (at: number): Span => {
    root ??= tracer.startSpan(`rollout ${service ?? ''}`.trim(), { startTime: at, attributes: common() }, base())
    return root
  }
  const targetSpan = (target: Target, batch: number, at: number): Span => {
    let t = targets.get(target.id)
    if (!t) {
      const parent = batches.get(batch) ?? (batch < 0 ? verify : undefined) ?? rootSpan(at)
      t = { span: start(`target ${target.id}`, parent, { ...targetAttributes(target), ...(batch >= 0 ? { [ATTR.batch]: batch + 1 } : {}) }, at), batch }
      targets.set(target.id, t)
    }
    return t.span
  }
  const endTarget = (id: string, at: number, outcome?: string): void => {
    const t = targets.get(id)
    if (!t) return
    if (outcome !== undefined) t.span.setAttribute(ATTR.outcome, outcome)
    t.span.end(at)
    targets.delete(id)
  }
  const endAll = (at: number, result?: RolloutResult): void => {
    for (const [id, span] of open) {
      span.setAttribute(ATTR.phaseEnd, 'cut')
      span.end(at)
      open.delete(id)
    }
    const outcomes = new Map(result?.targets.map((r) => [r.target.id, r]))
    for (const id of [...targets.keys()]) endTarget(id, at, outcomes.get(id)?.outcome)
    for (const [index, span] of batches) {
      span.end(at)
      batches.delete(index)
    }
    gate?.end(at)
    verify?.end(at)
    gate = verify = undefined
  }

  const onPhases = (event: RolloutEvent, at: number): void => {
    for (const change of phases.apply(event)) {
      const id = change.target.id
      if (change.kind === 'start') {
        const parent = targetSpan(change.target, change.batch, at)
        open.set(id, start(change.phase, parent, { [ATTR.phase]: change.phase, [ATTR.targetId]: id }, at))
        continue
      }
      const span = open.get(id)
      if (!span) continue
      open.delete(id)
      span.setAttribute(ATTR.phaseEnd, change.end)
      if (change.reason !== undefined) span.setAttribute(ATTR.reason, change.reason)
      if (change.end === 'failed') fail(span, change.reason ?? `${change.phase} failed`)
      span.end(at)
    }
  }

  return {
    event(event) {
      if (over) return
      const at = now()
      onPhases(event, at)
      switch (event.type) {
        case 'rollout:start':
          service = event.service
          rootSpan(at).setAttributes({ [ATTR.service]: event.service, [ATTR.runId]: event.runId, [ATTR.ref]: event.ref, [ATTR.resumed]: event.resumed })
          break
        case 'plan':
          version = event.artifact.version
          rootSpan(at).setAttributes({ [ATTR.version]: version, [ATTR.targets]: event.candidates.length, [ATTR.batches]: event.batches.length })
          break
        case 'fleet:check':
          gate?.end(at)
          gate = start('fleet check', rootSpan(at), { [ATTR.batch]: event.batch + 1 }, at)
          break
        case 'fleet:unhealthy':
          if (gate) {
            const failing = event.failing.map((f) => `${f.target.id}: ${f.reason}`)
            fail(gate, `${event.healthy} healthy in service, at least ${event.minHealthy} needed${failing.length > 0 ? `; ${failing.join('; ')}` : ''}`)
            gate.end(at)
            gate = undefined
          }
          break
        case 'batch:start': {
          gate?.end(at)
          gate = undefined
          batches.get(event.index)?.end(at)
          const span = start(
            `batch ${event.index + 1}/${event.total}`,
            rootSpan(at),
            { [ATTR.batch]: event.index + 1, [ATTR.batchSize]: event.targets.length },
            at,
          )
          batches.set(event.index, span)
          for (const target of event.targets) targetSpan(target, event.index, at)
          break
        }
        case 'target:skipped':
          targets.get(event.target.id)?.span.setAttributes({ [ATTR.outcome]: 'skipped', [ATTR.reason]: event.reason })
          break
        case 'target:failed': {
          const span = targetSpan(event.target, event.batch, at)
          span.setAttributes({ [ATTR.outcome]: 'failed', [ATTR.reason]: `${event.phase}: ${event.reason}` })
          fail(span, `${event.target.id} failed in ${event.phase}: ${event.reason}`)
          break
        }
        case 'batch:end': {
          const failed: string[] = []
          for (const [id, outcome] of Object.entries(event.outcomes)) {
            if (outcome === 'failed') failed.push(id)
            if (targets.get(id)?.batch === event.index) endTarget(id, at, outcome)
          }
          const span = batches.get(event.index)
          if (span) {
            if (failed.length > 0) fail(span, `${failed.length} target(s) failed: ${failed.join(', ')}`)
            span.end(at)
            batches.delete(event.index)
          }
          break
        }
        case 'verify:start':
          verify = start('verify', rootSpan(at), { [ATTR.targets]: event.targets.length }, at)
          break
        case 'verify:mismatch':
          verify?.addEvent(
            'mismatch',
            { [ATTR.targetId]: event.target.id, 'rolling.expected': event.expected.version, 'rolling.actual': event.actual.version ?? '' },
            at,
          )
          break
        case 'target:stopped': {
          const span = targetSpan(event.target, -1, at)
          fail(span, `${event.target.id} stopped: ${event.reason}`)
          endTarget(event.target.id, at, 'stopped')
          break
        }
        case 'warning':
          rootSpan(at).addEvent('warning', { 'rolling.message': event.message, ...(event.target ? { [ATTR.targetId]: event.target.id } : {}) }, at)
          break
        case 'rollout:end': {
          const { result } = event
          endAll(at, result)
          const span = rootSpan(at)
          span.setAttribute(ATTR.status, result.status)
          if (result.reason) span.setAttribute(ATTR.reason, result.reason)
          // An abort is what someone asked for: not an error. Halted and failed are.
          if (result.status === 'succeeded') span.setStatus({ code: SpanStatusCode.OK })
          else if (result.status !== 'aborted') {
            span.setStatus({ code: SpanStatusCode.ERROR, message: result.reason ?? result.status })
            if (result.error) span.recordException(result.error)
            else span.recordException({ name: 'RolloutFailure', message: result.reason ?? result.status })
          }
          span.end(at)
          over = true
          break
        }
        default:
          break
      }
    },
    close(reason) {
      if (over) return
      over = true
      const at = now()
      endAll(at)
      if (root) {
        root.setAttribute(ATTR.reason, reason)
        root.end(at)
      }
    },
  }
}

/** Traces `run` (a RolloutRun) from now on; returns a function that stops listening and ends what is open. */
export function traceRollout(
  run: { subscribe(listener: (event: RolloutEvent) => unknown): () => void },
  options: RolloutTracerOptions,
): (reason?: string) => void {
  const tracer = rolloutTracer(options)
  const unsubscribe = run.subscribe((event) => tracer.event(event))
  return (reason = 'stopped listening') => {
    unsubscribe()
    tracer.close(reason)
  }
}
