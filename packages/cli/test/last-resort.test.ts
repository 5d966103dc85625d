// The CLI's last resort, through the real bin in a child process: a custom adapter emits
// 'error' on a raw EventEmitter nobody listens to, mid-deploy. Without the handler, Node
// ends the process with the target out of the load balancer and the journal saying nothing.
// With it: a journalled stop, the lock kept (a target is mid-step), a message that
// `rolling resume` finishes it, a non-zero exit; and `rolling resume` does finish it.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { FIXTURES, type Project, exitWithin, makeProject, normalise, runBin } from './support/project.js'

const CONFIG = `
import { EventEmitter } from 'node:events'
import { existsSync, readFileSync, rmSync } from 'node:fs'
import { join } from 'node:path'
import base from ${JSON.stringify(join(FIXTURES, 'fleet.config.ts'))}

export default async (ctx) => {
  const config = await base(ctx)
  const trigger = join(ctx.cwd, 'crash-once')
  // Like ssh2 after its first error: a second 'error' on an emitter with no listener; the
  // call itself never settles (until aborted), as with a socket that just went quiet.
  const escape = (signal) => {
    rmSync(trigger)
    const socket = new EventEmitter()
    setTimeout(() => socket.emit('error', new Error('read ECONNRESET (injected)')), 300)
    return new Promise((_, reject) => signal.addEventListener('abort', () => reject(signal.reason), { once: true }))
  }
  // The file says where: a command of host-1 containing its text, or 'fleet-check' for
  // host-1's check once it is back in service on v2 (nothing is mid-step then).
  const at = () => (existsSync(trigger) ? readFileSync(trigger, 'utf8') : undefined)
  const executor = {
    ...config.executor,
    run(target, request, runCtx) {
      const where = at()
      const command = typeof request === 'string' ? request : request.command
      if (target.id !== 'host-1' || where === undefined || where === 'fleet-check' || !command.includes(where)) return config.executor.run(target, request, runCtx)
      return escape(runCtx.signal)
    },
  }
  const healthCheck = {
    name: config.healthCheck.name,
    check(target, checkCtx) {
      const host = JSON.parse(readFileSync(join(ctx.cwd, 'fleet.json'), 'utf8')).hosts.find((h) => h.id === target.id)
      if (at() !== 'fleet-check' || target.id !== 'host-1' || !host.inService || host.version !== 'v2') return config.healthCheck.check(target, checkCtx)
      return escape(checkCtx.signal)
    },
  }
  return { ...config, executor, healthCheck }
}
`

describe('last resort: an error that escapes every adapter', () => {
  let project: Project | undefined
  afterEach(() => project?.remove())

  const deployAndResume = async (breakAt: string, lockKept: boolean) => {
    project = makeProject({ size: 3 }, CONFIG)
    project.write('crash-once', breakAt)
    const run = runBin(['deploy'], { cwd: project.dir })
    expect(await exitWithin(run, 20_000)).toBe(1)
    expect(run.stderr).toContain('rolling deploy: stopped by an unexpected error that no adapter handled: read ECONNRESET (injected)')
    expect(run.stderr).toContain('`rolling resume` finishes the rollout')
    expect(run.stderr).toContain(lockKept ? 'the lock is kept: host-1 left mid-step' : 'the lock is released (no target was mid-step)')
    expect(run.stderr).not.toContain('Unhandled')
    const journal = readFileSync(join(project.dir, '.rolling/app.journal.jsonl'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { type: string })
    expect(journal.at(-1)).toMatchObject({ type: 'stop', reason: 'read ECONNRESET (injected)' })
    expect(journal.some((r) => r.type === 'end')).toBe(false)
    expect(existsSync(join(project.dir, '.rolling/app.lock'))).toBe(lockKept)
    expect(project.fleet().hosts.find((h) => h.id === 'host-1')?.inService).toBe(!lockKept)

    const status = runBin(['status'], { cwd: project.dir })
    expect(await exitWithin(status, 15_000)).toBe(0)
    expect(normalise(status.stdout.trim().split('\n'))).toContain(
      'status: interrupted (stopped at TIME by an unexpected error: read ECONNRESET (injected)): `rolling resume` finishes it',
    )

    const resumed = runBin(['resume'], { cwd: project.dir })
    expect(await exitWithin(resumed, 30_000), resumed.stderr).toBe(0)
    expect(project.fleet().hosts.map((h) => [h.id, h.version, h.inService])).toEqual([
      ['host-1', 'v2', true],
      ['host-2', 'v2', true],
      ['host-3', 'v2', true],
    ])
  }

  it('mid-deploy: journals a stop, keeps the lock (host-1 is out of the load balancer), says `rolling resume` finishes it, exits 1; resume does', async () => {
    await deployAndResume('fleet install', true)
  })

  it('when no target is mid-step (the fleet check before batch 2): the same, and the lock is released', async () => {
    await deployAndResume('fleet-check', false)
  })
})
