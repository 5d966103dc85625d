// `--json`: one JSON object per line for every event of the run, in order, ending with
// the result; errors as messages; an `error` line when the run cannot start.
import { afterEach, describe, expect, it } from 'vitest'
import type { RolloutResult } from '@org/rolling-core'
import { jsonReporter } from '../src/index.js'
import { Capture, type Project, makeProject, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/

describe('rolling deploy --json', () => {
  it('prints one object per event, line by line, ending with rollout:end and the result', async () => {
    project = makeProject({ size: 2, breakOnDeploy: ['host-2'] })
    const { code, stdout, stderr } = await runMain(['deploy', '--json', '--batch', '1'], { cwd: project.dir })
    expect(code).toBe(2)
    expect(stderr.text()).toBe('')
    const lines = stdout.lines()
    const events = lines.map((line) => JSON.parse(line) as Record<string, unknown> & { type: string })
    expect(events.map((e) => e.type)).toEqual([
      'rollout:start',
      'plan',
      'batch:start',
      'target:precheck',
      'target:detaching',
      'target:detached',
      'target:deploying',
      'target:output',
      'target:output',
      'target:deployed',
      'target:healthy',
      'target:attaching',
      'target:attached',
      'batch:end',
      'fleet:check',
      'batch:start',
      'target:precheck',
      'target:detaching',
      'target:detached',
      'target:deploying',
      'target:output',
      'target:output',
      'target:deployed',
      'target:unhealthy',
      'target:failed',
      'batch:end',
      'rollout:end',
    ])
    for (const event of events) {
      expect(Object.keys(event).slice(0, 2)).toEqual(['type', 'at'])
      expect(event.at).toMatch(ISO)
    }
    const at = (i: number) => events[i] as Record<string, unknown>
    expect(at(0)).toMatchObject({ service: 'app', ref: 'latest', resumed: false })
    expect(at(1)).toMatchObject({ artifact: { version: 'v2' }, candidates: [{ id: 'host-1' }, { id: 'host-2' }] })
    expect(at(7)).toMatchObject({ target: { id: 'host-1' }, stream: 'stdout', chunk: 'installing v2\n' })
    expect(at(23)).toMatchObject({ target: { id: 'host-2' }, reason: 'status 503', health: { ok: false, status: 503 } })
    expect(at(24)).toMatchObject({ target: { id: 'host-2' }, phase: 'settle', reason: 'status 503' })
    expect(at(25)).toMatchObject({ index: 1, outcomes: { 'host-2': 'failed' } })
    const result = (events.at(-1) as unknown as { result: Record<string, unknown> }).result
    expect(result).toMatchObject({
      status: 'halted',
      service: 'app',
      reason: 'host-2 (127.0.10.2:8080) failed its settle',
      needsAttention: [{ id: 'host-2' }],
      targets: [
        { target: { id: 'host-1' }, outcome: 'done', batch: 0 },
        { target: { id: 'host-2' }, outcome: 'failed', batch: 1, failedIn: 'settle' },
      ],
    })
  })

  it('serialises errors as their messages and ends with an error line when the run cannot start', async () => {
    project = makeProject({ size: 1 })
    const { code, stdout, stderr } = await runMain(['deploy', '--json', '--build', 'v9'], { cwd: project.dir })
    expect(code).toBe(1)
    const events = stdout.lines().map((line) => JSON.parse(line) as Record<string, unknown>)
    expect(events.map((e) => e.type)).toEqual(['rollout:start', 'error'])
    expect(events[1]).toEqual({
      type: 'error',
      at: expect.stringMatching(ISO),
      message: '[rolling:file] no build v9 of service app',
      code: 'ARTIFACT_NOT_FOUND',
      exitCode: 1,
    })
    // A person watching the terminal still reads why.
    expect(stderr.text()).toBe('rolling deploy: [rolling:file] no build v9 of service app\n')
  })

  it('writes Errors inside events as their messages', () => {
    const out = new Capture()
    const reporter = jsonReporter({ command: 'deploy', service: 'app', out, color: false, now: () => Date.UTC(2026, 0, 1) })
    reporter.event({ type: 'listener:error', event: 'target:attached', error: new Error('listener broke') })
    const result: RolloutResult = {
      status: 'failed',
      runId: 'r-1',
      service: 'app',
      artifact: undefined,
      targets: [],
      needsAttention: [],
      excluded: [],
      warnings: [],
      batches: 0,
      startedAt: 0,
      endedAt: 0,
      durationMs: 0,
      reason: 'journal full',
      error: new Error('ENOSPC: no space left on device'),
    }
    reporter.event({ type: 'rollout:end', result })
    expect(out.lines()).toEqual([
      '{"type":"listener:error","at":"2026-01-01T00:00:00.000Z","event":"target:attached","error":"listener broke"}',
      '{"type":"rollout:end","at":"2026-01-01T00:00:00.000Z","result":{"status":"failed","runId":"r-1","service":"app","targets":[],"needsAttention":[],"excluded":[],"warnings":[],"batches":0,"startedAt":0,"endedAt":0,"durationMs":0,"reason":"journal full","error":"ENOSPC: no space left on device"}}',
    ])
  })
})
