// A crash of the process running a rollout loses nothing: the rollout runs in a
// child process that is SIGKILLed mid-batch; resume() then finishes it from the journal.
import { execFile } from 'node:child_process'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { fileArtifacts, fileJournal, fileLock, httpHealthCheck, localExecutor, resume } from '@org/rolling-core'
import { fileLoadBalancer, fileRecipe, hostDir, makeLayout, startStatusServers } from '../support/file-fleet.js'

const child = join(import.meta.dirname, '../support/crash-child.ts')
const cleanups: (() => Promise<void> | void)[] = []
afterEach(async () => {
  for (const fn of cleanups.splice(0)) await fn()
})

function runChild(arg: unknown): Promise<{ signal: NodeJS.Signals | null; code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const proc = execFile(
      process.execPath,
      ['--import', 'tsx', '--conditions', '@org/source', child, JSON.stringify(arg)],
      { timeout: 60_000 },
      (_e, stdout, stderr) => resolve({ signal: proc.signalCode, code: proc.exitCode, stdout, stderr }),
    )
  })
}

describe.each(['deploy', 'settle'] as const)('resume after a SIGKILL during %s', (mode) => {
  it('finishes the rollout: every target attached on the new build or listed', async () => {
    const root = mkdtempSync(join(tmpdir(), 'rolling-resume-'))
    cleanups.push(() => rmSync(root, { recursive: true, force: true }))
    const layout = makeLayout(root, 6, 20_000 + Math.floor(Math.random() * 20_000))
    const servers = await startStatusServers(layout)
    cleanups.push(() => servers.close())
    const artifacts = fileArtifacts({ root: join(root, 'artifacts') })
    writeFileSync(join(root, 'build.tgz'), 'v2 bytes')
    await artifacts.publish('app', join(root, 'build.tgz'), { version: 'v2' })

    const crashed = await runChild({ layout, killAt: 'host-3', mode })
    expect(crashed.signal, crashed.stderr).toBe('SIGKILL')
    const lb = fileLoadBalancer(layout)
    // Batch 2 (host-3, host-4) was in flight: out of the load balancer, not attached.
    expect(lb.inService('host-3')).toBe(false)
    expect(lb.inService('host-1')).toBe(true)
    const lock = fileLock({ dir: join(root, 'state') })
    expect((await lock.inspect('app'))?.pid).toBeGreaterThan(0) // the dead run's lock is still there

    const result = await resume({
      service: 'app',
      loadBalancer: lb,
      artifacts,
      executor: localExecutor({ cwd: (t) => hostDir(layout, t.id) }),
      healthCheck: httpHealthCheck({ timeoutMs: 2000 }),
      deploy: fileRecipe,
      settle: { delay: 0 },
      stateDir: join(root, 'state'),
    })
    expect(result.reason).toBeUndefined()
    expect(result.status).toBe('succeeded')
    for (const t of layout.targets) {
      expect(lb.inService(t.id), `${t.id} in service`).toBe(true)
      expect(readFileSync(join(hostDir(layout, t.id), 'VERSION'), 'utf8')).toBe('v2')
    }
    expect(result.targets.map((r) => r.outcome)).toEqual(['done', 'done', 'done', 'done', 'done', 'done'])
    const records = await fileJournal(join(root, 'state', 'app.journal.jsonl')).read()
    expect(records.at(-1)).toMatchObject({ type: 'end', status: 'succeeded' })
    expect(await lock.inspect('app')).toBeUndefined()
  })
})
