// A succeeded rollout that still left hosts out, through the real `rolling` bin in a child
// process over the file fleet: the summary names each warning (skipped, unverified, excluded),
// counts every outcome (never "no targets"), and the exit code is 0, or 6 with --strict.
import { afterEach, describe, expect, it } from 'vitest'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type Project, exitWithin, makeProject, normalise, runBin } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

const tail = (stdout: string, n: number) => normalise(stdout.trim().split('\n')).slice(-n)

describe('rolling deploy: succeeded with warnings', () => {
  it('a host skipped by its pre-check, then stopped by verify: listed under "⚠ 1 warning", exit 0; exit 6 with --strict', async () => {
    project = makeProject({ size: 3, unhealthyNow: ['host-2'] })
    const run = runBin(['deploy', '--batch', '1', '--no-verify'], { cwd: project.dir })
    expect(await exitWithin(run, 30_000)).toBe(0)
    expect(tail(run.stdout, 5)).toEqual([
      'succeeded: v2 on 3 target(s)',
      'targets: 2 done, 1 skipped (3 in 3 batch(es), T)',
      '⚠ 1 warning:',
      '  skipped: host-2 (127.0.10.2:8080): pre-check failed: status 503',
      'exit 0 (succeeded with 1 warning)',
    ])
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v1', true],
      ['host-3', 'v2', true],
    ])

    // Again, with verify: host-2 is still sick and on v1, so verify stops it (the others are
    // already on v2: skipped without a warning, that is what a re-run wants).
    const strict = runBin(['deploy', '--strict', '--summary', 'summary.md'], { cwd: project.dir })
    expect(await exitWithin(strict, 30_000)).toBe(6)
    expect(tail(strict.stdout, 6)).toEqual([
      'targets: 2 skipped, 1 stopped (3 in 3 batch(es), T)',
      'skipped: host-1 (127.0.10.1:8080): already on v2',
      'skipped: host-3 (127.0.10.3:8080): already on v2',
      '⚠ 1 warning:',
      '  stopped: host-2 (127.0.10.2:8080): wrong build: detached and stopped',
      'exit 6 (succeeded with 1 warning, --strict)',
    ])
    const summary = readFileSync(join(project.dir, 'summary.md'), 'utf8')
    expect(summary).toMatch(/^## ✅ app v2: succeeded \(1 warning\)\n/)
    expect(summary).toContain('\n### ⚠️ Warnings (1)\n\n- **stopped** `host-2` (127.0.10.2:8080): wrong build: detached and stopped\n')
  })

  it('a host whose _status reports no build, verify off: counted unverified (not "no targets") and warned', async () => {
    project = makeProject({ size: 2, noVersion: ['host-1', 'host-2'] })
    const run = runBin(['deploy', '--batch', '1', '--no-verify'], { cwd: project.dir })
    expect(await exitWithin(run, 30_000)).toBe(0)
    const lines = normalise(run.stdout.trim().split('\n'))
    expect(lines).toContain('batch 1/2 ended: 1 unverified')
    expect(lines.slice(-6)).toEqual([
      'succeeded: v2 on 2 target(s)',
      'targets: 2 unverified (2 in 2 batch(es), T)',
      '⚠ 2 warnings:',
      expect.stringMatching(/^ {2}unverified: host-1 \(127\.0\.10\.1:8080\): healthy, but its health check reports no build/),
      expect.stringMatching(/^ {2}unverified: host-2 \(127\.0\.10\.2:8080\): healthy, but its health check reports no build/),
      'exit 0 (succeeded with 2 warnings)',
    ])
    // The journal's `unverified` is a final state: both batches count as finished.
    const status = runBin(['status'], { cwd: project.dir })
    expect(await exitWithin(status, 30_000)).toBe(0)
    expect(status.stdout).toContain('\nbatches: 2 of 2 finished\n')
    expect(status.stdout).toContain('\ntargets: 2 unverified\n')
  })

  it('a host an operator put in maintenance: shown by plan as excluded, left as found, warned', async () => {
    project = makeProject({ size: 3, maint: ['host-3'] })
    const plan = runBin(['plan'], { cwd: project.dir })
    expect(await exitWithin(plan, 30_000)).toBe(0)
    expect(plan.stdout).toContain(
      '\nexcluded (taken out by an operator; not deployed, left as found): 1\n  host-3 (127.0.10.3:8080): MAINT set by an operator (not by rolling)\n',
    )
    const run = runBin(['deploy', '--json'], { cwd: project.dir })
    expect(await exitWithin(run, 30_000)).toBe(0)
    const end = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as { type: string; result?: Record<string, unknown> })
      .find((e) => e.type === 'rollout:end')
    expect(end?.result?.excluded).toEqual([
      { target: { id: 'host-3', address: '127.0.10.3', port: 8080 }, reason: 'MAINT set by an operator (not by rolling)' },
    ])
    expect(end?.result?.warnings).toEqual([
      { kind: 'excluded', target: { id: 'host-3', address: '127.0.10.3', port: 8080 }, message: 'excluded: MAINT set by an operator (not by rolling)' },
    ])
    expect(end?.result?.needsAttention).toEqual([])
    expect(project.fleet().hosts.map((h) => [h.id, h.version])).toEqual([
      ['host-1', 'v2'],
      ['host-2', 'v2'],
      ['host-3', 'v1'],
    ])
  })
})
