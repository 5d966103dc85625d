// `rolling approve` / `rolling abort` against a paused run: the core's own pause (pauseFor)
// waits on the folder control channel, as a running rollout does, and the command reaches it
// through the state folder. Refusals: nothing running, not paused.
import { existsSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { ApprovalBox, fileControl, fileJournal, fileLock, pauseFor, resolvePause, systemClock, type Journal } from '@org/rolling-core'
import { silentLogger } from '@org/rolling-core/testing'
import { type Project, makeProject, runMain } from './support/project.js'

let project: Project | undefined
const closers: (() => Promise<void>)[] = []
afterEach(async () => {
  for (const close of closers.splice(0)) await close()
  project?.remove()
})

/** A run of `app` holding the lock, with a journal started, as `rolling deploy` leaves them. */
async function running(dir: string, runId = 'r-test-000001') {
  const stateDir = join(dir, '.rolling')
  const lease = await fileLock({ dir: stateDir }).acquire('app', { runId, pid: process.pid, host: hostname(), since: new Date().toISOString(), service: 'app' })
  const journal: Journal = fileJournal(join(stateDir, 'app.journal.jsonl'))
  journal.append({ type: 'start', runId, service: 'app', ref: 'latest', at: new Date().toISOString(), artifact: {}, targets: [], batches: [[0], [1]] })
  closers.push(async () => {
    await lease.release()
    await journal.close()
  })
  const pause = (timeout = 20_000, onTimeout: 'abort' | 'approve' = 'abort') =>
    pauseFor(
      {
        service: 'app',
        runId,
        clock: systemClock,
        log: silentLogger,
        control: fileControl({ dir: stateDir }),
        approvals: new ApprovalBox(),
        write: (...records) => journal.append(...records),
        stopSignal: new AbortController().signal,
        seen: {},
      },
      0,
      resolvePause({ after: [1], timeout, onTimeout }) as never,
    )
  return { stateDir, journal, pause }
}

async function paused(journal: Journal): Promise<void> {
  for (let i = 0; i < 200 && !(await journal.read()).some((r) => r.type === 'pause'); i++) await new Promise((r) => setTimeout(r, 10))
}

describe('rolling approve / rolling abort', () => {
  it('approve releases the pause; the journal says who approved, with the note', async () => {
    project = makeProject({ size: 2 })
    const run = await running(project.dir)
    const waiting = run.pause()
    await paused(run.journal)
    const { code, stdout, stderr } = await runMain(['approve', '--note', 'canary looks good'], { cwd: project.dir, env: { ROLLING_ACTOR: 'alice' } })
    expect(stderr.text()).toBe('')
    expect(stdout.lines()[0]).toMatch(/^approval sent to run r-test-000001 of app \(paused after batch 1\) through .*\.rolling$/)
    expect(stdout.lines()[1]).toBe('run r-test-000001 goes on')
    expect(code).toBe(0)
    const end = await waiting
    expect(end).toMatchObject({ how: 'approved', next: 'continue', by: `alice@${hostname()}`, note: 'canary looks good' })
    expect((await run.journal.read()).find((r) => r.type === 'release')).toMatchObject({ i: 0, how: 'approved', by: `alice@${hostname()}` })
  })

  it('abort releases the pause as aborted', async () => {
    project = makeProject({ size: 2 })
    const run = await running(project.dir)
    const waiting = run.pause()
    await paused(run.journal)
    const { code, stdout } = await runMain(['abort', 'app'], { cwd: project.dir })
    expect(code).toBe(0)
    expect(stdout.lines()[1]).toBe('run r-test-000001 is aborting: in-flight steps finish, healthy targets go back')
    expect(await waiting).toMatchObject({ how: 'aborted', next: 'abort' })
  })

  it('a message for another run is not acted on: the pause reaches its timeout', async () => {
    project = makeProject({ size: 2 })
    const run = await running(project.dir)
    await fileControl({ dir: run.stateDir }).send('app', { id: 'm-other', kind: 'approve', runId: 'r-someone-else', at: new Date().toISOString() })
    expect(await run.pause(300, 'abort')).toMatchObject({ how: 'timeout', next: 'abort' })
    expect(await run.pause(300, 'approve')).toMatchObject({ how: 'timeout', next: 'continue' })
  })

  it('refuses to approve a run that is not paused, and sends nothing', async () => {
    project = makeProject({ size: 2 })
    const run = await running(project.dir)
    const { code, stderr } = await runMain(['approve'], { cwd: project.dir })
    expect(code).toBe(1)
    expect(stderr.text()).toBe('rolling approve: run r-test-000001 of app is not paused; nothing sent (it pauses where `pause` says, then waits for this)\n')
    expect(existsSync(join(run.stateDir, 'app.control'))).toBe(false)
  })

  it('refuses when no rollout runs', async () => {
    project = makeProject({ size: 2 })
    const { code, stderr } = await runMain(['abort'], { cwd: project.dir })
    expect(code).toBe(1)
    expect(stderr.text()).toMatch(/^rolling abort: no rollout of app is running \(no lock in .*\); nothing sent\n$/)
  })
})
