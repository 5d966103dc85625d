// `rolling plan`: the build, the candidates, each batch and the settings, as text or JSON;
// and that it is a dry run: the adapters see a discovery and nothing else.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { type Project, makeProject, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

describe('rolling plan', () => {
  it('prints the build, each batch and the settings, and touches nothing', async () => {
    project = makeProject({ size: 5 })
    const { code, stdout, stderr } = await runMain(['plan', '--batch', '1,50%', '--min-healthy', '1', '--on-failure', 'halt', '--max-stopped', '2'], {
      cwd: project.dir,
    })
    expect(stderr.text()).toBe('')
    expect(stdout.lines()).toEqual([
      'plan for app: build v2 (built 2026-01-01T00:00:00.000Z, sha256 41c6d3072efa)',
      '5 target(s) in service, 3 batch(es):',
      '  batch 1/3: host-1 (127.0.10.1:8080)',
      '  batch 2/3: host-2 (127.0.10.2:8080), host-3 (127.0.10.3:8080), host-4 (127.0.10.4:8080)',
      '  batch 3/3: host-5 (127.0.10.5:8080)',
      'settle: wait 5ms, then check _status once',
      'on failure: halt (a failed target stays out of the load balancer; no further batch starts)',
      'verify: on (more than 2 target(s) on the wrong build fails the rollout)',
      'min healthy: 1',
      'nothing was changed: this is a dry run',
    ])
    expect(code).toBe(0)
    // The dry run asked the load balancer who is in service, and nothing else.
    expect(project.fleet().calls).toEqual([{ op: 'discover', ids: ['host-1', 'host-2', 'host-3', 'host-4', 'host-5'] }])
    expect(project.fleet().hosts.every((h) => h.version === 'v1' && h.inService)).toBe(true)
    // No lock taken, no journal written.
    expect(existsSync(join(project.dir, '.rolling'))).toBe(false)
  })

  it('caps batches by --min-healthy and words --no-verify and polling', async () => {
    project = makeProject({ size: 4 })
    const { stdout } = await runMain(['plan', '--batch', '100%', '--min-healthy', '75%', '--no-verify', '--settle-interval', '500ms', '--settle', '1s'], {
      cwd: project.dir,
    })
    expect(stdout.lines().filter((line) => line.startsWith('  batch'))).toHaveLength(4)
    expect(stdout.lines()).toContain('settle: wait 1.0s, then poll _status every 500ms until it answers 200 (give up 2m00s after the deploy)')
    expect(stdout.lines()).toContain('verify: off')
  })

  it('prints one JSON object with --json', async () => {
    project = makeProject({ size: 3, builds: ['v1', 'v2', 'v3'] })
    const { code, stdout } = await runMain(['plan', '--json', '--build', 'v2', '--batch', '2'], { cwd: project.dir })
    expect(code).toBe(0)
    expect(stdout.lines()).toHaveLength(1)
    expect(JSON.parse(stdout.text())).toEqual({
      service: 'app',
      artifact: {
        service: 'app',
        version: 'v2',
        builtAt: '2026-01-01T00:00:00.000Z',
        sha256: '41c6d3072efad8069e191730811f08df3a723f6130a7690157dd3737991524ec',
        size: 7,
      },
      candidates: [
        { id: 'host-1', address: '127.0.10.1', port: 8080 },
        { id: 'host-2', address: '127.0.10.2', port: 8080 },
        { id: 'host-3', address: '127.0.10.3', port: 8080 },
      ],
      batches: [['host-1', 'host-2'], ['host-3']],
      excluded: [],
      current: [],
      settle: { delay: 5, deadline: 120_000, successes: 1, requireBuild: true, hold: 0 },
      onFailure: 'halt',
      maxStopped: 3,
      verify: true,
      minHealthy: 0,
      redeploy: false,
      control: { gates: [], bake: 0, maxFailures: 0, onMismatch: 'stop' },
    })
  })

  it('shows the zone of each batch, the pause, the failure budget, the deadline and late joiners', async () => {
    project = makeProject({ size: 4 })
    const { code, stdout, stderr } = await runMain(
      ['plan', '--batch', '50%', '--pause-after', '1', '--max-failures', '1', '--deadline', '45m', '--on-mismatch', 'deploy', '--bake', '30s'],
      { cwd: project.dir },
    )
    expect(stderr.text()).toBe('')
    expect(code).toBe(0)
    const lines = stdout.lines()
    expect(lines).toContain('pause: after batch 1, until `rolling approve` (abort after 24h00m)')
    expect(lines).toContain('failure budget: 1 target(s) may fail and be left out before the rollout halts')
    expect(lines).toContain('deadline: the rollout aborts gracefully 45m00s after it starts')
    expect(lines).toContain('late joiners: a target verify finds on another build is deployed like the others')
    expect(lines.at(-1)).toBe('nothing was changed: this is a dry run')
    // No gate is configured: --bake alone adds no gate line.
    expect(lines.some((l) => l.startsWith('gates:'))).toBe(false)
  })

  it('exits 1 with the reason when there is nothing to plan', async () => {
    project = makeProject({ size: 0 })
    let run = await runMain(['plan'], { cwd: project.dir })
    expect([run.code, run.stdout.text(), run.stderr.text()]).toEqual([
      1,
      '',
      'rolling plan: [rolling:file] no target in service for app: nothing to deploy to\n',
    ])
    run = await runMain(['plan', '--build', 'v7'], { cwd: project.dir })
    expect([run.code, run.stderr.text()]).toEqual([1, 'rolling plan: [rolling:file] no build v7 of service app\n'])
  })
})
