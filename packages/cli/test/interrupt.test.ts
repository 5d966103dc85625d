// Ctrl-C during a rollout. In-process: the first interrupt aborts gracefully (exit 3) and
// says what it waits for. Through the real bin: the same with a real SIGINT, and a second
// SIGINT that exits 130 at once, leaves the journal, and `rolling resume` finishes the job.
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { waitUntil } from '@org/rolling-core/adapter'
import { Capture, type Project, exitWithin, makeProject, normalise, runBin, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

const WAIT_NOTICE =
  'Ctrl-C: aborting gracefully: nothing new starts, in-flight steps finish and healthy targets go back; waiting for host-1 (deploying). Ctrl-C again stops at once.'

describe('Ctrl-C in-process', () => {
  it('aborts gracefully on the first interrupt, names what it waits for, and exits 3', async () => {
    project = makeProject({ size: 3, deployMs: 400 })
    const signals = new EventEmitter()
    const stdout = new Capture()
    const running = runMain(['deploy', '--plain'], { cwd: project.dir, signals, stdout })
    await stdout.waitFor('host-1 deploying v2')
    signals.emit('SIGINT')
    const { code } = await running
    expect(normalise(stdout.lines()).slice(4)).toEqual([
      'host-1 deploying v2',
      WAIT_NOTICE,
      'host-1 deployed in T',
      'host-1 attached',
      // The abort cut its settle short: healthy on v2 and back in service, but not `done`.
      'batch 1/3 ended: 1 restored',
      'aborted: [rolling] aborted: Ctrl-C',
      'targets: 1 restored, 2 pending (3 in 3 batch(es), T)',
      'restored: host-1 (127.0.10.1:8080): aborted during settle; healthy on v2, put back in service',
      'exit 3 (aborted)',
    ])
    expect(code).toBe(3)
    // Nothing is left out of the load balancer; the in-flight deploy finished.
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v1', true],
      ['host-3', 'v1', true],
    ])
    expect(signals.listenerCount('SIGINT')).toBe(0)
  })

  it('says which targets are in which step when several are in flight', async () => {
    project = makeProject({ size: 2, deployMs: 400 })
    const signals = new EventEmitter()
    const stdout = new Capture()
    const running = runMain(['deploy', '--plain', '--batch', '2'], { cwd: project.dir, signals, stdout })
    await stdout.waitFor('host-2 deploying v2')
    signals.emit('SIGTERM')
    expect((await running).code).toBe(3)
    expect(stdout.text()).toContain(
      'SIGTERM: aborting gracefully: nothing new starts, in-flight steps finish and healthy targets go back; waiting for host-1, host-2 (deploying).',
    )
  })
  it('resolves with 130 on a second interrupt without waiting for the run; the cancelled run winds down', async () => {
    project = makeProject({ size: 2, deployMs: 5000 })
    const signals = new EventEmitter()
    const stdout = new Capture()
    const running = runMain(['deploy', '--plain'], { cwd: project.dir, signals, stdout })
    await stdout.waitFor('host-1 deploying v2')
    signals.emit('SIGINT')
    const second = Date.now()
    signals.emit('SIGINT')
    expect((await running).code).toBe(130)
    expect(Date.now() - second).toBeLessThan(1_000)
    expect(normalise(stdout.lines()).slice(-2)).toEqual([
      WAIT_NOTICE,
      `Ctrl-C again: stopping at once; the journal ${join(project.dir, '.rolling/app.journal.jsonl')} is kept: run \`rolling resume\` to finish the rollout`,
    ])
    expect(signals.listenerCount('SIGINT')).toBe(0)
    // The cancel reached the deploy in flight: the run lets go of its lock long before the 5 s install.
    const lock = join(project.dir, '.rolling/app.lock')
    await waitUntil(async () => (existsSync(lock) ? { state: 'retry' } : { state: 'done', value: true }), {
      what: 'the cancelled run to release its lock',
      timeoutMs: 3_000,
      minDelayMs: 20,
      maxDelayMs: 50,
    })
    expect(Date.now() - second).toBeLessThan(3_000)
  })
})

describe('Ctrl-C through the real bin', () => {
  it('first SIGINT: graceful abort, exit 3, the notice names the target deploying', async () => {
    project = makeProject({ size: 3, deployMs: 1500 })
    const run = runBin(['deploy'], { cwd: project.dir })
    await run.waitFor(/host-1 deploying v2/)
    run.child.kill('SIGINT')
    await run.waitFor(/waiting for host-1 \(deploying\)/)
    expect(await exitWithin(run, 15_000)).toBe(3)
    expect(run.stdout).toMatch(/ {2}exit 3 \(aborted\)\n$/)
    expect(project.fleet().hosts.every((h) => h.inService)).toBe(true)
  })

  it('second SIGINT: exits 130 at once, keeps the journal; `rolling status` says resume; `rolling resume` finishes', async () => {
    project = makeProject({ size: 3, deployMs: 3000 })
    const run = runBin(['deploy', '--summary', 'summary.md'], { cwd: project.dir })
    await run.waitFor(/host-1 deploying v2/)
    run.child.kill('SIGINT')
    await run.waitFor(/waiting for host-1 \(deploying\)/)
    const second = Date.now()
    run.child.kill('SIGINT')
    expect(await exitWithin(run, 5_000)).toBe(130)
    // At once: well before the 3 s deploy in flight could have finished.
    expect(Date.now() - second).toBeLessThan(2_000)
    expect(run.stdout).toContain('Ctrl-C again: stopping at once; the journal ')
    expect(run.stdout).toContain('.rolling/app.journal.jsonl is kept: run `rolling resume` to finish the rollout')
    // The Markdown summary says so too, written before the process went.
    expect(readFileSync(join(project.dir, 'summary.md'), 'utf8')).toBe(
      `## ⏹️ rolling deploy app: interrupted\n\n> Ctrl-C again: stopping at once; the journal ${join(project.dir, '.rolling/app.journal.jsonl')} is kept: run \`rolling resume\` to finish the rollout\n\n`,
    )
    // host-1 was cut off mid-deploy: out of the load balancer, still on v1.
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v1', false],
      ['host-2', 'v1', true],
      ['host-3', 'v1', true],
    ])

    const before = runBin(['status'], { cwd: project.dir })
    expect(await exitWithin(before, 15_000)).toBe(0)
    const statusBefore = normalise(before.stdout.trim().split('\n'))
    expect(statusBefore.slice(2, 8)).toEqual([
      'run: RUN, build v2 (asked for latest), started TIME (T ago)',
      'status: interrupted: `rolling resume` finishes it',
      'batches: 0 of 3 finished, batch 1 in progress',
      'targets: 1 deploying, 2 pending',
      'out of the load balancer mid-step: host-1 (127.0.10.1:8080) deploying',
      'needs attention (failed, left out of the load balancer): none',
    ])
    expect(statusBefore[8]).toMatch(/^lock: held by run RUN \(pid \d+ on .+\) since TIME; that process is not running: stale/)

    // The hosts install faster now: the test need not wait 3 s per host again.
    const fleet = project.fleet()
    writeFileSync(project.fleetFile, JSON.stringify({ ...fleet, deployMs: 0 }))
    const resumed = runBin(['resume'], { cwd: project.dir })
    expect(await exitWithin(resumed, 30_000)).toBe(0)
    const lines = normalise(resumed.stdout.trim().split('\n'))
    expect(lines[0]).toBe('resume app: run RUN, build latest')
    expect(lines).toContain('host-1 deploying v2')
    expect(lines.at(-1)).toBe('exit 0 (succeeded)')
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', true],
      ['host-3', 'v2', true],
    ])

    const after = runBin(['status', '--json'], { cwd: project.dir })
    expect(await exitWithin(after, 15_000)).toBe(0)
    const status = JSON.parse(after.stdout) as Record<string, unknown>
    expect(status).toMatchObject({ service: 'app', state: 'succeeded', resumeNeeded: false, batches: { total: 3, finished: 3 }, outOfService: [], lock: null })
  })
})
