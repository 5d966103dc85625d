// The trace of a rollout, from a real rollout over the in-memory fleet on a fake clock
// (every phase has a known length), through the SDK's in-memory exporter: the tree of
// spans, their times, attributes and errors.
import { SpanStatusCode } from '@opentelemetry/api'
import { BasicTracerProvider, InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from '@opentelemetry/sdk-trace-base'
import { memoryJournal, memoryLock, rollout, type RolloutResult } from '@org/rolling-core'
import { FakeClock, memoryFleet } from '@org/rolling-core/testing'
import { describe, expect, it } from 'vitest'
import { ATTR, rolloutTracer, traceRollout } from '../src/index.js'

function sdk() {
  const exporter = new InMemorySpanExporter()
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] })
  return { exporter, provider, tracer: provider.getTracer('test') }
}

const ms = (t: [number, number]) => t[0] * 1000 + Math.round(t[1] / 1e6)

/** The spans as an indented tree: `name start-end [ERROR: message]`, children in start order. */
function tree(spans: readonly ReadableSpan[], t0: number): string[] {
  const ids = new Set(spans.map((s) => s.spanContext().spanId))
  const children = new Map<string | undefined, ReadableSpan[]>()
  for (const span of spans) {
    const parent = span.parentSpanContext?.spanId
    const key = parent && ids.has(parent) ? parent : undefined
    children.set(key, [...(children.get(key) ?? []), span])
  }
  const lines: string[] = []
  const walk = (parent: string | undefined, depth: number) => {
    const list = [...(children.get(parent) ?? [])].sort(
      (a, b) => ms(a.startTime) - ms(b.startTime) || ms(a.endTime) - ms(b.endTime) || a.name.localeCompare(b.name),
    )
    for (const span of list) {
      const error = span.status.code === SpanStatusCode.ERROR ? ` ERROR: ${span.status.message}` : ''
      lines.push(`${'  '.repeat(depth)}${span.name} ${ms(span.startTime) - t0}-${ms(span.endTime) - t0}${error}`)
      walk(span.spanContext().spanId, depth + 1)
    }
  }
  walk(undefined, 0)
  return lines
}

/** 4 hosts in batches of 2: drain 2 s, deploy 5 s, settle 3 s, attach 1 s; host-3's new build fails its settle. */
async function tracedRollout(tracer: ReturnType<typeof sdk>['tracer']) {
  const clock = new FakeClock({ autoAdvance: false })
  const fleet = memoryFleet({ size: 4, clock, drainMs: 2000, deployMs: 5000, attachMs: 1000 })
  fleet.publish('v2')
  fleet.breakAfterDeploy('host-3')
  const t0 = clock.now()
  const run = rollout({ ...fleet.adapters, batch: 2, settle: { delay: 3000 }, clock, journal: memoryJournal(), lock: memoryLock(), runId: 'run-7' })
  const stop = traceRollout(run, { tracer, now: () => clock.now() })
  let result: RolloutResult | undefined
  void run.then((r) => {
    result = r
  })
  for (let i = 0; i < 100 && !result; i++) await clock.advance(500)
  stop()
  return { result: await run, t0 }
}

describe('rollout trace', () => {
  it('is a span for the rollout, one per batch, one per target under its batch and one per phase under its target; failures are errors', async () => {
    const { exporter, tracer } = sdk()
    const { result, t0 } = await tracedRollout(tracer)
    expect(result.status).toBe('halted')
    const spans = exporter.getFinishedSpans()
    expect(tree(spans, t0)).toEqual([
      'rollout app 0-22000 ERROR: host-3 (127.100.0.3:8080) failed its settle',
      '  batch 1/2 0-11000',
      '    target host-1 0-11000',
      '      precheck 0-0',
      '      detach 0-2000',
      '      deploy 2000-7000',
      '      settle 7000-10000',
      '      attach 10000-11000',
      '    target host-2 0-11000',
      '      precheck 0-0',
      '      detach 0-2000',
      '      deploy 2000-7000',
      '      settle 7000-10000',
      '      attach 10000-11000',
      '  fleet check 11000-11000',
      '  batch 2/2 11000-22000 ERROR: 1 target(s) failed: host-3',
      '    target host-3 11000-22000 ERROR: host-3 failed in settle: status 503 (unhealthy)',
      '      precheck 11000-11000',
      '      detach 11000-13000',
      '      deploy 13000-18000',
      '      settle 18000-21000 ERROR: status 503 (unhealthy)',
      '    target host-4 11000-22000',
      '      precheck 11000-11000',
      '      detach 11000-13000',
      '      deploy 13000-18000',
      '      settle 18000-21000',
      '      attach 21000-22000',
    ])
    // Every span is in one trace.
    expect(new Set(spans.map((s) => s.spanContext().traceId)).size).toBe(1)

    const named = (name: string) => spans.find((s) => s.name === name) as ReadableSpan
    expect(named('rollout app').attributes).toEqual({
      [ATTR.service]: 'app',
      [ATTR.runId]: 'run-7',
      [ATTR.ref]: 'latest',
      [ATTR.resumed]: false,
      [ATTR.version]: 'v2',
      [ATTR.targets]: 4,
      [ATTR.batches]: 2,
      [ATTR.status]: 'halted',
      [ATTR.reason]: 'host-3 (127.100.0.3:8080) failed its settle',
    })
    expect(named('target host-3').attributes).toEqual({
      [ATTR.service]: 'app',
      [ATTR.version]: 'v2',
      [ATTR.targetId]: 'host-3',
      [ATTR.targetAddress]: '127.100.0.3',
      [ATTR.targetPort]: 8080,
      [ATTR.batch]: 2,
      [ATTR.outcome]: 'failed',
      [ATTR.reason]: 'settle: status 503 (unhealthy)',
    })
    expect(named('target host-4').attributes[ATTR.outcome]).toBe('done')
    // The failed phase and its target carry the failure as an exception event.
    const settle3 = spans.find((s) => s.name === 'settle' && s.attributes[ATTR.targetId] === 'host-3') as ReadableSpan
    expect(settle3.attributes).toMatchObject({ [ATTR.phase]: 'settle', [ATTR.phaseEnd]: 'failed', [ATTR.reason]: 'status 503 (unhealthy)' })
    expect(settle3.events.map((e) => [e.name, e.attributes?.['exception.message']])).toEqual([['exception', 'status 503 (unhealthy)']])
    expect(named('target host-3').events.map((e) => e.name)).toEqual(['exception'])
    expect(named('rollout app').events.map((e) => e.name)).toContain('exception')
    const settle4 = spans.find((s) => s.name === 'settle' && s.attributes[ATTR.targetId] === 'host-4') as ReadableSpan
    expect(settle4.status.code).toBe(SpanStatusCode.UNSET)
    expect(settle4.attributes[ATTR.phaseEnd]).toBe('ok')
  })

  it('ends every span of an aborted rollout; an abort is not an error', async () => {
    const { exporter, tracer } = sdk()
    const clock = new FakeClock({ autoAdvance: false })
    const fleet = memoryFleet({ size: 4, clock, drainMs: 2000, deployMs: 5000, attachMs: 1000 })
    fleet.publish('v2')
    const controller = new AbortController()
    const run = rollout({
      ...fleet.adapters,
      batch: 2,
      settle: { delay: 3000 },
      clock,
      journal: memoryJournal(),
      lock: memoryLock(),
      signal: controller.signal,
    })
    traceRollout(run, { tracer, now: () => clock.now() })
    let done = false
    void run.then(() => {
      done = true
    })
    await clock.advance(4000) // batch 1 deploying
    controller.abort()
    for (let i = 0; i < 100 && !done; i++) await clock.advance(500)
    const result = await run
    expect(result.status).toBe('aborted')
    const spans = exporter.getFinishedSpans()
    const root = spans.find((s) => s.name === 'rollout app') as ReadableSpan
    expect(root.attributes[ATTR.status]).toBe('aborted')
    expect(root.status.code).toBe(SpanStatusCode.UNSET)
    // Batch 2 never started. Batch 1's deploys finished, their settle was cut short, and both
    // healthy targets were put back (restored); every span is ended, none is an error.
    const seen = spans.map((s) => `${s.name} ${String(s.attributes[ATTR.outcome] ?? s.attributes[ATTR.phaseEnd] ?? '')}`.trim())
    expect(seen.sort()).toEqual(
      [
        ...['precheck ok', 'detach ok', 'deploy ok', 'settle cut', 'attach ok'].flatMap((p) => [p, p]),
        'target host-1 restored',
        'target host-2 restored',
        'batch 1/2',
        'rollout app',
      ].sort(),
    )
    expect(spans.filter((s) => s.status.code === SpanStatusCode.ERROR)).toEqual([])
  })

  it('ends every span when the run stops without a rollout:end (a run left unfinished)', async () => {
    const { exporter, tracer } = sdk()
    const clock = new FakeClock({ autoAdvance: false })
    const fleet = memoryFleet({ size: 2, clock, drainMs: 2000, deployMs: 5000 })
    fleet.publish('v2')
    const run = rollout({ ...fleet.adapters, batch: 2, settle: { delay: 3000 }, clock, journal: memoryJournal(), lock: memoryLock() })
    const traced = rolloutTracer({ tracer, now: () => clock.now() })
    const unsubscribe = run.subscribe((event) => traced.event(event))
    await clock.advance(3000) // mid-deploy
    unsubscribe()
    traced.close('interrupted: Ctrl-C twice')
    const spans = exporter.getFinishedSpans()
    // Nothing left open: rollout, batch, 2 targets, and each target's precheck, detach and deploy.
    expect(spans.map((s) => s.name).sort()).toEqual(
      ['rollout app', 'batch 1/1', 'target host-1', 'target host-2', 'precheck', 'precheck', 'detach', 'detach', 'deploy', 'deploy'].sort(),
    )
    const deploys = spans.filter((s) => s.name === 'deploy')
    expect(deploys.map((s) => s.attributes[ATTR.phaseEnd])).toEqual(['cut', 'cut'])
    expect(spans.find((s) => s.name === 'rollout app')?.attributes[ATTR.reason]).toBe('interrupted: Ctrl-C twice')
    // Later events change nothing.
    traced.close('again')
    expect(exporter.getFinishedSpans()).toHaveLength(spans.length)
    // Let the run finish so nothing is left running.
    for (let i = 0; i < 60; i++) await clock.advance(500)
    await run
  })
})
