// What every report says of the rollout control: a degraded end (exit 5), the gates and
// what a failed one saw, each pause and who released it, and the events as they happen.
import type { Plan, RolloutEvent, RolloutResult } from '@org/rolling-core'
import { describe, expect, it } from 'vitest'
import { renderSummary as renderMarkdown } from '../src/reporters/markdown.js'
import { plainReporter } from '../src/reporters/plain.js'
import { jsonReporter } from '../src/reporters/json.js'
import { planText } from '../src/reporters/plan.js'
import type { ReporterContext } from '../src/reporters/reporter.js'
import { exitCodeOfResult } from '../src/exit-codes.js'
import { Capture } from './support/project.js'

const host = (n: number) => ({ id: `web-${n}`, address: `127.0.30.${n}`, port: 8080 })

const degraded: RolloutResult = {
  status: 'degraded',
  runId: 'r-1',
  service: 'app',
  artifact: { service: 'app', version: 'v2', builtAt: '2026-01-01T00:00:00.000Z', sha256: 'a'.repeat(64), size: 1 },
  targets: [
    { target: host(1), outcome: 'done', batch: 0, timings: {} },
    { target: host(2), outcome: 'failed', batch: 1, failedIn: 'settle', reason: 'status 500', timings: {} },
    { target: host(3), outcome: 'done', batch: 2, timings: {} },
  ],
  needsAttention: [host(2)],
  excluded: [],
  warnings: [],
  batches: 3,
  startedAt: 0,
  endedAt: 1000,
  durationMs: 1000,
  reason: '1 target(s) failed within the failure budget (maxFailures 1) and are left out: web-2',
  gates: [
    { gate: 'cloudwatch', batch: 0, final: false, passed: true, detail: 'OK: checkout-5xx', durationMs: 30_000 },
    { gate: 'cloudwatch', batch: 2, final: true, passed: false, detail: 'alarm checkout-5xx is ALARM', durationMs: 5_000 },
  ],
  pauses: [{ index: 0, how: 'approved', by: 'alice@ci', note: 'canary ok', durationMs: 90_000 }],
}

function context(out: Capture): ReporterContext {
  return { out, err: new Capture(), now: () => 0, command: 'deploy', service: 'app', strict: false } as unknown as ReporterContext
}

describe('control in the reports', () => {
  it('plain: the pause and gate events as they happen, then degraded with exit 5, the gates and the pause', () => {
    const out = new Capture()
    const reporter = plainReporter({})(context(out))
    const events: RolloutEvent[] = [
      { type: 'pause:start', index: 0, total: 3, timeoutMs: 60_000, until: 60_000, onTimeout: 'abort', control: '.rolling', resumed: false },
      { type: 'pause:end', index: 0, total: 3, how: 'approved', by: 'alice@ci', note: 'canary ok' },
      { type: 'gate:end', gate: 'cloudwatch', batch: 0, total: 3, final: false, passed: true, detail: 'OK: checkout-5xx', durationMs: 30_000 },
      { type: 'budget:spent', target: host(2), failures: 1, budget: 1 },
    ]
    for (const e of events) reporter.event(e)
    reporter.end(degraded)
    const text = out.text()
    expect(text).toContain(
      'paused after batch 1/3, every target in service: waiting for `rolling approve` or `rolling abort` (through .rolling); at 1970-01-01T00:01:00.000Z it will abort',
    )
    expect(text).toContain('pause after batch 1/3 ended: approved by alice@ci (canary ok)')
    expect(text).toContain('gate cloudwatch passed after batch 1/3 in 30.0s: OK: checkout-5xx')
    expect(text).toContain('web-2 failed within the failure budget (1 of 1 spent): left out of the load balancer, the rollout goes on')
    expect(text).toContain('degraded: 1 target(s) failed within the failure budget (maxFailures 1) and are left out: web-2')
    expect(text).toContain('gates: 1 of 2 check(s) passed')
    expect(text).toContain('  gate cloudwatch FAILED at the end: alarm checkout-5xx is ALARM')
    expect(text).toContain('pause after batch 1: approved by alice@ci (canary ok) after 1m30s')
    expect(text).toContain('exit 5 (degraded)')
    expect(exitCodeOfResult(degraded, true)).toBe(5)
  })

  it('Markdown: a degraded heading, the gates and pauses section', () => {
    const md = renderMarkdown(degraded, 'deploy')
    expect(md).toMatch(/^## 🟠 app v2: degraded/)
    expect(md).toContain('### Gates and pauses')
    expect(md).toContain('- gate cloudwatch FAILED at the end: alarm checkout-5xx is ALARM')
  })

  it('JSON: each control event is a line with its payload', () => {
    const out = new Capture()
    const reporter = jsonReporter(context(out))
    reporter.event({ type: 'pause:start', index: 0, total: 3, timeoutMs: 60_000, until: 60_000, onTimeout: 'abort', resumed: false })
    expect(JSON.parse(out.text())).toMatchObject({ type: 'pause:start', index: 0, onTimeout: 'abort' })
  })

  it('plan: the zone of each batch, the gates with their bake, the pause', () => {
    const zoned = (n: number, zone: string) => ({ ...host(n), labels: { zone } })
    const batches = [[zoned(1, 'eu-1a'), zoned(2, 'eu-1a')], [zoned(3, 'eu-1b')]]
    const plan = {
      service: 'app',
      artifact: degraded.artifact,
      candidates: batches.flat(),
      batches,
      excluded: [],
      current: [],
      settle: { delay: 0, interval: 100, deadline: 1000, successes: 1, requireBuild: true, hold: 0 },
      onFailure: 'halt',
      maxStopped: 3,
      control: {
        gates: ['cloudwatch'],
        bake: 60_000,
        pause: { after: [1], timeout: 3_600_000, onTimeout: 'abort' },
        zones: { label: 'zone', perBatch: [['eu-1a'], ['eu-1b']] },
        maxFailures: 0,
        onMismatch: 'stop',
      },
    } as unknown as Plan
    const out = new Capture()
    planText({ verify: true, minHealthy: 0 })(plan, context(out))
    const lines = out.text().split('\n')
    expect(lines).toContain('  batch 1/2 (zone eu-1a): web-1 (127.0.30.1:8080), web-2 (127.0.30.2:8080)')
    expect(lines).toContain('  batch 2/2 (zone eu-1b): web-3 (127.0.30.3:8080)')
    expect(lines).toContain('gates: cloudwatch after each batch and at the end, each watched 1m00s before it passes')
    expect(lines).toContain('pause: after batch 1, until `rolling approve` (abort after 1h00m)')
    expect(lines).toContain('zones: by label zone, one zone a batch')
  })
})
