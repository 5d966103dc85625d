// `rolling deploy` in-process: the plain output line by line, the exit code of each way a
// rollout ends, host output with --output, and a rollout that cannot start.
import { afterEach, describe, expect, it } from 'vitest'
import { existsSync, mkdirSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { Capture, FIXTURES, type Project, makeProject, normalise, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

describe('rolling deploy (plain output)', () => {
  it('rolls the build across the fleet a batch at a time and exits 0', async () => {
    project = makeProject({ size: 3 })
    const { code, stdout, stderr } = await runMain(['deploy', '--plain'], { cwd: project.dir })
    expect(stderr.text()).toBe('')
    expect(normalise(stdout.lines())).toEqual([
      'deploy app: build latest, run RUN',
      'plan: v2 (built 2026-01-01T00:00:00.000Z) to 3 target(s) in 3 batch(es)',
      'batch 1/3: host-1',
      'host-1 detached',
      'host-1 deploying v2',
      'host-1 deployed in T',
      'host-1 healthy on v2',
      'host-1 attached',
      'batch 1/3 ended: 1 done',
      'fleet check before batch 2: 1 target(s)',
      'batch 2/3: host-2',
      'host-2 detached',
      'host-2 deploying v2',
      'host-2 deployed in T',
      'host-2 healthy on v2',
      'host-2 attached',
      'batch 2/3 ended: 1 done',
      'fleet check before batch 3: 1 target(s)',
      'batch 3/3: host-3',
      'host-3 detached',
      'host-3 deploying v2',
      'host-3 deployed in T',
      'host-3 healthy on v2',
      'host-3 attached',
      'batch 3/3 ended: 1 done',
      'verify: 3 target(s) should run v2',
      'succeeded: v2 on 3 target(s)',
      'targets: 3 done (3 in 3 batch(es), T)',
      'exit 0 (succeeded)',
    ])
    // Every line carries the time since the start.
    for (const line of stdout.lines()) expect(line).toMatch(/^ {2,}\d+\.\d+s {2}\S/)
    expect(code).toBe(0)
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', true],
      ['host-3', 'v2', true],
    ])
  })
})

describe('rolling deploy: each way a rollout ends has its exit code', () => {
  it('halts with exit 2 when a target fails its new build, naming it and leaving it out of the load balancer', async () => {
    project = makeProject({ size: 3, breakOnDeploy: ['host-2'] })
    const { code, stdout } = await runMain(['deploy', '--plain'], { cwd: project.dir })
    expect(normalise(stdout.lines()).slice(9)).toEqual([
      'fleet check before batch 2: 1 target(s)',
      'batch 2/3: host-2',
      'host-2 detached',
      'host-2 deploying v2',
      'host-2 deployed in T',
      'host-2 unhealthy: status 503',
      'host-2 FAILED in settle: status 503',
      'batch 2/3 ended: 1 failed',
      'halted: host-2 (127.0.10.2:8080) failed its settle',
      'targets: 1 done, 1 failed, 1 pending (3 in 3 batch(es), T)',
      'needs attention: host-2 (127.0.10.2:8080) failed in settle, left out of the load balancer: status 503',
      'exit 2 (halted)',
    ])
    expect(code).toBe(2)
    const hosts = project.fleet().hosts
    expect(hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', false],
      ['host-3', 'v1', true],
    ])
  })

  it('with --max-failures 1 goes on past a failed target and exits 5 (degraded), the target left out and listed', async () => {
    project = makeProject({ size: 3, breakOnDeploy: ['host-2'] })
    const { code, stdout } = await runMain(['deploy', '--plain', '--max-failures', '1'], { cwd: project.dir })
    const lines = normalise(stdout.lines())
    expect(lines).toContain('host-2 failed within the failure budget (1 of 1 spent): left out of the load balancer, the rollout goes on')
    expect(lines).toContain('degraded: 1 target(s) failed within the failure budget (maxFailures 1) and are left out: host-2')
    expect(lines.at(-1)).toBe('exit 5 (degraded)')
    expect(code).toBe(5)
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', false],
      ['host-3', 'v2', true],
    ])
  })

  it('--pause-after 1 waits after the canary until `rolling approve` from another invocation, then exits 0', async () => {
    project = makeProject({ size: 3 })
    const out = new Capture()
    const deploying = runMain(['deploy', '--plain', '--pause-after', '1'], { cwd: project.dir, stdout: out })
    await out.waitFor('paused after batch 1/3', 15_000)
    expect(project.fleet().hosts.map((h) => h.version)).toEqual(['v2', 'v1', 'v1'])
    const approve = await runMain(['approve', '--note', 'canary-ok'], { cwd: project.dir, env: { ROLLING_ACTOR: 'bob' } })
    expect(approve.stderr.text()).toBe('')
    expect(approve.stdout.lines().at(-1)).toMatch(/^run r-\S+ goes on$/)
    const { code } = await deploying
    expect(code).toBe(0)
    const lines = normalise(out.lines())
    expect(lines).toContainEqual(expect.stringMatching(/^pause after batch 1\/3 ended: approved by bob@\S+ \(canary-ok\)$/))
    expect(project.fleet().hosts.map((h) => h.version)).toEqual(['v2', 'v2', 'v2'])
  })

  it('halts with exit 2 when a restart leaves the old build serving: settle names the build it saw', async () => {
    project = makeProject({ size: 3, ignoreDeploy: ['host-2'] })
    const { code, stdout } = await runMain(['deploy', '--plain', '--batch', '2'], { cwd: project.dir })
    expect(normalise(stdout.lines())).toContain('host-2 FAILED in settle: still running v1, expected v2')
    expect(code).toBe(2)
  })

  it('fails with exit 1 when more targets than --max-stopped run the wrong build after the last batch', async () => {
    // host-2 goes back to v1 after its batch (someone redeployed the old build): verify finds it.
    const config = `import { join } from 'node:path'
import { readFileSync, writeFileSync } from 'node:fs'
import base from ${JSON.stringify(join(FIXTURES, 'fleet.config.ts'))}
export default (env) => ({
  ...base(env),
  hooks: {
    beforeVerify() {
      const file = join(env.cwd, 'fleet.json')
      const state = JSON.parse(readFileSync(file, 'utf8'))
      state.hosts.find((h) => h.id === 'host-2').version = 'v1'
      writeFileSync(file, JSON.stringify(state))
    },
  },
})
`
    project = makeProject({ size: 3 }, config)
    const { code, stdout } = await runMain(['deploy', '--plain', '--max-stopped', '0', '--batch', '2'], { cwd: project.dir })
    expect(normalise(stdout.lines()).slice(-8)).toEqual([
      'verify: 3 target(s) should run v2',
      'host-2 runs v1, expected v2 (from _status)',
      'host-2 stopped: wrong build: detached and stopped',
      'failed: 1 target(s) ran the wrong build, more than maxStopped (0)',
      'targets: 2 done, 1 stopped (3 in 2 batch(es), T)',
      // Listed once, as the warning it is, not again in a list of targets not done.
      '⚠ 1 warning:',
      '  stopped: host-2 (127.0.10.2:8080): wrong build: detached and stopped',
      'exit 1 (failed)',
    ])
    expect(code).toBe(1)
  })

  it('exits 1 when the rollout cannot start: empty pool, unknown build, lock held, unfinished journal', async () => {
    project = makeProject({ size: 0 })
    let run = await runMain(['deploy', '--plain'], { cwd: project.dir })
    expect(normalise(run.stdout.lines()).slice(1)).toEqual([
      'could not start: [rolling:file] no target in service for app: nothing to deploy to (an empty pool is an error, not a success)',
      'exit 1',
    ])
    expect(run.code).toBe(1)
    project.remove()

    project = makeProject({ size: 2 })
    run = await runMain(['deploy', '--plain', '--build', 'v9'], { cwd: project.dir })
    expect(normalise(run.stdout.lines())).toEqual(['deploy app: build v9, run RUN', 'could not start: [rolling:file] no build v9 of service app', 'exit 1'])
    expect(run.code).toBe(1)

    // Another rollout of the service, alive on this host, holds the lock.
    mkdirSync(join(project.dir, '.rolling'), { recursive: true })
    const holder = { runId: 'r-other', pid: process.pid, host: hostname(), since: '2026-01-01T00:00:00.000Z', service: 'app' }
    writeFileSync(join(project.dir, '.rolling/app.lock'), JSON.stringify(holder))
    run = await runMain(['deploy', '--plain'], { cwd: project.dir })
    expect(normalise(run.stdout.lines()).slice(1)).toEqual([
      `could not start: [rolling] service app is already being rolled out by run r-other (pid ${process.pid} on host ${hostname()}) since 2026-01-01T00:00:00.000Z`,
      'exit 1',
    ])
    expect(run.code).toBe(1)
    expect(project.fleet().calls.filter((c) => c.op !== 'discover')).toEqual([])
  })

  it('refuses to start over an unfinished rollout and points to `rolling resume`', async () => {
    project = makeProject({ size: 2 })
    mkdirSync(join(project.dir, '.rolling'))
    const start = { type: 'start', runId: 'r-crashed', service: 'app', ref: 'latest', at: '2026-01-01T00:00:00.000Z', targets: [], batches: [] }
    writeFileSync(join(project.dir, '.rolling/app.journal.jsonl'), `${JSON.stringify(start)}\n`)
    const { code, stdout } = await runMain(['deploy', '--plain'], { cwd: project.dir })
    expect(code).toBe(1)
    expect(stdout.lines().at(-2)).toContain(
      'holds an unfinished rollout of app (run r-crashed, started 2026-01-01T00:00:00.000Z): finish it with `rolling resume`',
    )
  })

  it('exits 1 when `rolling resume` finds nothing to resume', async () => {
    project = makeProject({ size: 2 })
    let run = await runMain(['resume', '--plain'], { cwd: project.dir })
    expect(run.stdout.lines().at(-2)).toMatch(/could not start: \[rolling\] no rollout to resume: the journal .*app\.journal\.jsonl is empty$/)
    expect(run.code).toBe(1)
    expect((await runMain(['deploy'], { cwd: project.dir })).code).toBe(0)
    run = await runMain(['resume', '--plain'], { cwd: project.dir })
    expect(run.stdout.lines().at(-2)).toMatch(/could not start: \[rolling\] no rollout to resume: run r-\S+ in .* already ended \(succeeded\)$/)
    expect(run.code).toBe(1)
  })

  it('reports a --min-healthy that leaves nothing to deploy as a bad flag (exit 4), naming the flag and the value', async () => {
    project = makeProject({ size: 2 })
    const { code, stdout } = await runMain(['deploy', '--plain', '--min-healthy', '100%'], { cwd: project.dir })
    expect(normalise(stdout.lines()).slice(1)).toEqual([
      'could not start: --min-healthy 100%: `minHealthy` 100% keeps 2 of 2 targets in service, which leaves none to deploy',
      'exit 4',
    ])
    expect(code).toBe(4)
  })
})

describe('rolling deploy: flags and host output', () => {
  it('shows host output only with --output, each line prefixed by its target id', async () => {
    project = makeProject({ size: 2 })
    const quiet = await runMain(['deploy', '--plain', '--batch', '100%'], { cwd: project.dir })
    expect(quiet.stdout.text()).not.toContain(' | ')
    project.remove()

    project = makeProject({ size: 2 })
    const { code, stdout } = await runMain(['deploy', '--plain', '--batch', '100%', '--output'], { cwd: project.dir })
    expect(code).toBe(0)
    const lines = normalise(stdout.lines())
    expect(lines.filter((line) => line.includes(' | '))).toEqual([
      'host-1 | installing v2',
      'host-2 | installing v2',
      'host-1 | installed v2',
      'host-2 | installed v2',
    ])
    // The output comes between the deploy's start and end of its own target.
    for (const id of ['host-1', 'host-2']) {
      expect(lines.indexOf(`${id} | installing v2`)).toBeGreaterThan(lines.indexOf(`${id} deploying v2`))
      expect(lines.indexOf(`${id} | installed v2`)).toBeLessThan(lines.indexOf(`${id} deployed in T`))
    }
  })

  it('flags override the config: --build, --batch schedule, --no-verify, --state-dir', async () => {
    project = makeProject({ size: 5, builds: ['v1', 'v2', 'v3'] })
    const { code, stdout } = await runMain(['deploy', '--plain', '--build', 'v2', '--batch', '1,50%', '--no-verify', '--state-dir', 'state'], {
      cwd: project.dir,
    })
    const lines = normalise(stdout.lines())
    expect(lines.filter((line) => line.startsWith('batch ') && !line.includes('ended'))).toEqual([
      'batch 1/3: host-1',
      'batch 2/3: host-2, host-3, host-4',
      'batch 3/3: host-5',
    ])
    expect(lines).not.toContain('verify: 5 target(s) should run v2')
    expect(code).toBe(0)
    expect(project.fleet().hosts.every((h) => h.version === 'v2')).toBe(true)
    expect(project.fleet().calls.filter((c) => c.op === 'discover')).toHaveLength(1) // no second discovery: verify was off
    expect(existsSync(join(project.dir, 'state/app.journal.jsonl'))).toBe(true)
    expect(existsSync(join(project.dir, '.rolling'))).toBe(false)
  })
})
