// `rolling status` (what the journal says, who holds the lock, whether to resume) and
// `rolling unlock` (breaks a dead rollout's lock, refuses a live one unless --force).
import { afterEach, describe, expect, it } from 'vitest'
import { spawnSync } from 'node:child_process'
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { hostname } from 'node:os'
import { join } from 'node:path'
import { type Project, exitWithin, makeProject, normalise, runBin, runMain } from './support/project.js'

let project: Project | undefined
afterEach(() => project?.remove())

function lockFile(dir: string, holder: { runId: string; pid: number; host: string }): string {
  mkdirSync(join(dir, '.rolling'), { recursive: true })
  const file = join(dir, '.rolling/app.lock')
  writeFileSync(file, JSON.stringify({ ...holder, since: '2026-01-01T00:00:00.000Z', service: 'app' }))
  return file
}

/** The pid of a process that has exited (and been reaped). */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', 'process.stdout.write(String(process.pid))'])
  return Number(child.stdout.toString())
}

describe('rolling status', () => {
  it('says when nothing was recorded', async () => {
    project = makeProject({ size: 2 })
    const { code, stdout } = await runMain(['status'], { cwd: project.dir })
    expect(stdout.lines()).toEqual(['service: app', `journal: ${join(project.dir, '.rolling/app.journal.jsonl')}`, 'no rollout recorded', 'lock: free'])
    expect(code).toBe(0)
  })

  it('shows a halted rollout: batches, counts, the target that needs attention, nothing to resume', async () => {
    project = makeProject({ size: 3, breakOnDeploy: ['host-2'] })
    expect((await runMain(['deploy'], { cwd: project.dir })).code).toBe(2)
    const { code, stdout } = await runMain(['status'], { cwd: project.dir })
    expect(normalise(stdout.lines()).slice(2)).toEqual([
      'run: RUN, build v2 (asked for latest), started TIME (T ago)',
      'status: halted at TIME: nothing to resume',
      'batches: 2 of 3 finished',
      'targets: 1 done, 1 failed, 1 pending',
      'out of the load balancer mid-step: none',
      'needs attention (failed, left out of the load balancer): host-2 (127.0.10.2:8080)',
      'lock: free',
    ])
    expect(code).toBe(0)
  })

  it('reads an interrupted run of a named service without a config, as JSON', async () => {
    project = makeProject({ size: 2 })
    const state = join(project.dir, 'state')
    mkdirSync(state)
    const targets = [
      { id: 'web-1', address: '10.0.0.1', port: 80 },
      { id: 'web-2', address: '10.0.0.2', port: 80 },
    ]
    const records = [
      {
        type: 'start',
        runId: 'r-1',
        service: 'web',
        ref: 'latest',
        at: '2026-01-01T00:00:00.000Z',
        artifact: { service: 'web', version: 'v7', builtAt: '2025-12-31T00:00:00.000Z', sha256: 'ab'.repeat(32), size: 10 },
        targets,
        batches: [[0], [1]],
      },
      { type: 'batch', i: 0 },
      { type: 't', i: 0, s: 'detaching' },
      { type: 't', i: 0, s: 'detached' },
      { type: 't', i: 0, s: 'deploying' },
    ]
    writeFileSync(join(state, 'web.journal.jsonl'), records.map((r) => `${JSON.stringify(r)}\n`).join(''))
    rmSync(join(project.dir, 'rollout.config.ts'))
    const { code, stdout } = await runMain(['status', 'web', '--state-dir', 'state', '--json'], { cwd: project.dir })
    expect(code).toBe(0)
    expect(JSON.parse(stdout.text())).toEqual({
      service: 'web',
      journal: join(state, 'web.journal.jsonl'),
      state: 'interrupted',
      resumeNeeded: true,
      runId: 'r-1',
      ref: 'latest',
      version: 'v7',
      builtAt: '2025-12-31T00:00:00.000Z',
      startedAt: '2026-01-01T00:00:00.000Z',
      batches: { total: 2, finished: 0, inProgress: 1 },
      targets: [
        { id: 'web-1', address: '10.0.0.1', port: 80, state: 'deploying', batch: 1 },
        { id: 'web-2', address: '10.0.0.2', port: 80, state: 'pending', batch: 2 },
      ],
      outOfService: [{ id: 'web-1', address: '10.0.0.1', port: 80, state: 'deploying', batch: 1 }],
      needsAttention: [],
      verifying: false,
      lock: null,
    })
    const text = await runMain(['status', 'web', '--state-dir', 'state'], { cwd: project.dir })
    expect(text.stdout.lines().slice(3, 7)).toEqual([
      'status: interrupted: `rolling resume --state-dir state` finishes it',
      'batches: 0 of 2 finished, batch 1 in progress',
      'targets: 1 deploying, 1 pending',
      'out of the load balancer mid-step: web-1 (10.0.0.1:80) deploying',
    ])
  })

  it('refuses a tampered journal with its file and line, as resume does', async () => {
    project = makeProject({ size: 2 })
    await runMain(['deploy'], { cwd: project.dir })
    const file = join(project.dir, '.rolling', 'app.journal.jsonl')
    const lines = readFileSync(file, 'utf8')
      .split('\n')
      .filter((l) => l !== '')
    // Cut before the end record and claim the last target done while it is still pending.
    const cut = lines.slice(0, 2)
    writeFileSync(file, `${cut.join('\n')}\n{"type":"t","i":1,"s":"done"}\n`)
    const { code, stdout, stderr } = await runMain(['status'], { cwd: project.dir })
    expect(stdout.text()).toBe('')
    expect(stderr.text()).toBe(`rolling status: [rolling] journal ${file}:3: host-2 is in batch 1, which has not started (batch 0 is the last one started)\n`)
    expect(code).not.toBe(0)
  })

  it('needs a config or a service name', async () => {
    project = makeProject({ size: 1 })
    rmSync(join(project.dir, 'rollout.config.ts'))
    const run = await runMain(['status'], { cwd: project.dir })
    expect(run.code).toBe(4)
    expect(run.stderr.text()).toMatch(/^no config file: looked for rollout\.config\.ts, .* pass --config <file>\n$/)
    const bad = await runMain(['status', '../etc'], { cwd: project.dir })
    expect([bad.code, bad.stderr.text()]).toEqual([4, "rolling status: invalid service '../etc': expected a name of letters, digits, '.', '_' or '-'\n"])
  })
})

describe('rolling unlock', () => {
  it('says when the service is not locked', async () => {
    project = makeProject({ size: 1 })
    const { code, stdout } = await runMain(['unlock'], { cwd: project.dir })
    expect([code, stdout.text()]).toEqual([0, `app is not locked (${join(project.dir, '.rolling')})\n`])
  })

  it('breaks the lock of a dead process and says who held it', async () => {
    project = makeProject({ size: 1 })
    const pid = deadPid()
    const file = lockFile(project.dir, { runId: 'r-dead', pid, host: hostname() })
    const status = await runMain(['status'], { cwd: project.dir })
    expect(status.stdout.lines().at(-1)).toBe(
      `lock: held by run r-dead (pid ${pid} on ${hostname()}) since 2026-01-01T00:00:00.000Z; that process is not running: stale (\`rolling resume\` or \`rolling unlock\` clears it)`,
    )
    const { code, stdout } = await runMain(['unlock'], { cwd: project.dir })
    expect(stdout.text()).toBe(
      `broke the lock of app held by run r-dead (pid ${pid} on ${hostname()}) since 2026-01-01T00:00:00.000Z; its process was not running\n`,
    )
    expect(code).toBe(0)
    expect(existsSync(file)).toBe(false)
    // The next deploy can take the lock.
    expect((await runMain(['deploy'], { cwd: project.dir })).code).toBe(0)
  })

  it('refuses a live holder on this host unless --force', async () => {
    project = makeProject({ size: 1 })
    const file = lockFile(project.dir, { runId: 'r-live', pid: process.pid, host: hostname() })
    const refused = await runMain(['unlock'], { cwd: project.dir })
    expect(refused.stderr.text()).toBe(
      `rolling unlock: app is locked by run r-live (pid ${process.pid} on ${hostname()}) since 2026-01-01T00:00:00.000Z, which is still running on this host; stop that rollout (Ctrl-C), or break the lock anyway with \`rolling unlock --force\`\n`,
    )
    expect(refused.code).toBe(1)
    expect(existsSync(file)).toBe(true)
    const forced = await runMain(['unlock', '--force'], { cwd: project.dir })
    expect(forced.stdout.text()).toContain('; its process was still running (--force)\n')
    expect(forced.code).toBe(0)
    expect(existsSync(file)).toBe(false)
  })

  it('refuses a lock held on another host unless --force, through the bin, for a service named without a config', async () => {
    project = makeProject({ size: 1 })
    const file = lockFile(project.dir, { runId: 'r-far', pid: 4242, host: 'build-7.example' })
    const refused = runBin(['unlock', 'app', '--state-dir', '.rolling'], { cwd: project.dir })
    expect(await exitWithin(refused, 20_000)).toBe(1)
    expect(refused.stderr).toBe(
      `rolling unlock: app is locked by run r-far (pid 4242 on build-7.example) since 2026-01-01T00:00:00.000Z, on another host (this is ${hostname()}), which cannot be checked from here; make sure no rollout of app runs there, then break the lock with \`rolling unlock app --force --state-dir .rolling\`\n`,
    )
    expect(refused.stdout).toBe('')
    expect(existsSync(file)).toBe(true)
    const forced = runBin(['unlock', 'app', '--state-dir', '.rolling', '--force'], { cwd: project.dir })
    expect(await exitWithin(forced, 20_000)).toBe(0)
    expect(forced.stdout).toBe(
      'broke the lock of app held by run r-far (pid 4242 on build-7.example) since 2026-01-01T00:00:00.000Z; it was on another host (--force)\n',
    )
    expect(existsSync(file)).toBe(false)
    expect(readFileSync(project.fleetFile, 'utf8')).toContain('"calls": []')
  })

  it('refuses a live holder on this host through the bin too', async () => {
    project = makeProject({ size: 1 })
    const file = lockFile(project.dir, { runId: 'r-live', pid: process.pid, host: hostname() })
    const refused = runBin(['unlock'], { cwd: project.dir })
    expect(await exitWithin(refused, 20_000)).toBe(1)
    expect(refused.stderr).toContain(
      `is locked by run r-live (pid ${process.pid} on ${hostname()}) since 2026-01-01T00:00:00.000Z, which is still running on this host`,
    )
    expect(existsSync(file)).toBe(true)
  })
})
