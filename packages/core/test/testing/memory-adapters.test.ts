// The instrumentation and failure knobs of the in-memory adapters, which the engine's
// safety tests rely on; the contract behaviour is covered by contracts.test.ts.
import { describe, expect, it } from 'vitest'
import { FakeClock, memoryArtifacts, memoryExecutor, memoryLoadBalancer, silentLogger } from '../../src/testing/index.js'
import type { AdapterContext, Target } from '../../src/types.js'
import { RollingError } from '../../src/errors.js'

const ctxOf = (clock = new FakeClock(), extra: Partial<AdapterContext> = {}): AdapterContext => ({
  signal: new AbortController().signal,
  clock,
  log: silentLogger,
  ...extra,
})
const targets: Target[] = [1, 2, 3, 4].map((n) => ({ id: `web-${n}`, address: `127.100.0.${n}` }))

describe('memoryLoadBalancer', () => {
  it('counts targets out of service and the peak', async () => {
    const lb = memoryLoadBalancer({ targets })
    const ctx = ctxOf()
    await lb.detach(targets.slice(0, 2), ctx)
    expect(lb.outOfService).toBe(2)
    await lb.attach(targets.slice(0, 1), ctx)
    await lb.detach(targets.slice(2, 3), ctx)
    expect([lb.outOfService, lb.maxOutOfService]).toEqual([2, 2])
    await lb.attach(targets, ctx)
    expect([lb.outOfService, lb.maxOutOfService]).toEqual([0, 2])
    expect(lb.calls.map((c) => `${c.op}:${c.ids.join(',')}`)).toEqual(['detach:web-1,web-2', 'attach:web-1', 'detach:web-3', 'attach:web-1,web-2,web-3,web-4'])
  })

  it('drains and attaches on the clock, stamping calls with its time', async () => {
    const clock = new FakeClock({ start: 0 })
    const lb = memoryLoadBalancer({ targets, drainMs: 300_000, attachMs: 10_000 })
    await lb.detach([targets[0]!], ctxOf(clock))
    expect(clock.now()).toBe(300_000)
    await lb.attach([targets[0]!], ctxOf(clock))
    expect(clock.now()).toBe(310_000)
    expect(lb.calls.map((c) => c.at)).toEqual([0, 300_000])
  })

  it('an abort mid-drain rejects and leaves the target out, counted', async () => {
    const controller = new AbortController()
    const clock = new FakeClock({ start: 0, autoAdvance: false })
    const lb = memoryLoadBalancer({ targets, drainMs: 60_000, onDetach: () => void setImmediate(() => controller.abort(new Error('ctrl-c'))) })
    await expect(lb.detach([targets[1]!], ctxOf(clock, { signal: controller.signal }))).rejects.toThrow('ctrl-c')
    expect(lb.inService('web-2')).toBe(false)
    expect(lb.outOfService).toBe(1)
  })

  it('failNext fails one call of that op before it changes anything', async () => {
    const lb = memoryLoadBalancer({ targets })
    lb.failNext('detach', new Error('throttled'))
    await expect(lb.detach([targets[0]!], ctxOf())).rejects.toThrow('throttled')
    expect(lb.inService('web-1')).toBe(true)
    await lb.detach([targets[0]!], ctxOf())
    expect(lb.inService('web-1')).toBe(false)
  })

  it('rejects unknown targets with ADAPTER naming them, before detaching the known ones', async () => {
    const lb = memoryLoadBalancer({ targets, name: 'fake-alb' })
    const ghost = { id: 'i-0ghost', address: '127.109.9.9', port: 80 }
    const error = await lb.detach([targets[0]!, ghost], ctxOf()).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RollingError)
    expect(error).toMatchObject({ code: 'ADAPTER', message: expect.stringContaining('i-0ghost (127.109.9.9:80)') })
    expect((error as Error).message).toContain('[rolling:fake-alb]')
    expect(lb.inService('web-1')).toBe(true)
  })

  it('add and remove model autoscaling', async () => {
    const lb = memoryLoadBalancer({ targets })
    lb.add({ id: 'web-9', address: '127.100.0.9' })
    await lb.detach([targets[0]!], ctxOf())
    lb.remove('web-1')
    expect(lb.outOfService).toBe(0)
    expect((await lb.discover(ctxOf())).map((t) => t.id)).toEqual(['web-2', 'web-3', 'web-4', 'web-9'])
  })

  it('discover returns copies', async () => {
    const lb = memoryLoadBalancer({ targets: [{ id: 'a', address: '1', labels: { az: 'x' } }, ...targets] })
    const [first] = await lb.discover(ctxOf())
    first!.labels!.az = 'mutated'
    first!.address = 'mutated'
    expect((await lb.discover(ctxOf()))[0]).toEqual({ id: 'a', address: '1', labels: { az: 'x' } })
  })
})

describe('memoryArtifacts', () => {
  it('names service, version and both hashes in integrity errors', async () => {
    const store = memoryArtifacts()
    const artifact = store.publish('api', 'v3', 'hello')
    expect(artifact.sha256).toBe('2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824')
    expect(artifact.size).toBe(5)
    store.corrupt('api', 'v3')
    const error = await store.verify(artifact, ctxOf()).catch((e: unknown) => e as Error)
    expect(error).toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
    for (const part of ['api', 'v3', artifact.sha256]) expect((error as Error).message).toContain(part)
    expect((await store.locate(artifact, targets[0]!, ctxOf())).kind).toBe('url')
  })

  it('uses its clock for default build times, and latest follows publishing order', async () => {
    const store = memoryArtifacts({ clock: new FakeClock({ start: Date.UTC(2030, 0, 1) }) })
    store.publish('api', 'v2', new Uint8Array([1, 2, 3]), { metadata: { git: 'abc' } })
    store.publish('api', 'v1', new Uint8Array([4]))
    const latest = await store.resolve('api', 'latest', ctxOf())
    expect(latest.version).toBe('v1')
    expect(latest.builtAt).toBe('2030-01-01T00:00:00.000Z')
    expect((await store.resolve('api', 'v2', ctxOf())).metadata).toEqual({ git: 'abc' })
  })
})

describe('memoryExecutor', () => {
  const target = targets[0]!

  it('defaults the result, streams returned output and records commands', async () => {
    const chunks: string[] = []
    const executor = memoryExecutor({ handler: (_t, req) => (req.command === 'ok' ? { stdout: 'fine\n' } : { exitCode: 4, stderr: 'no\n' }) })
    const ok = await executor.run(target, 'ok', ctxOf(undefined, { output: (s, c) => chunks.push(`${s}:${c}`) }))
    expect(ok).toMatchObject({ exitCode: 0, signal: null, stdout: 'fine\n', stderr: '' })
    const bad = await executor.run(target, { command: 'bad' }, ctxOf(undefined, { output: (s, c) => chunks.push(`${s}:${c}`) }))
    expect(bad).toMatchObject({ exitCode: 4, stderr: 'no\n' })
    expect(chunks).toEqual(['stdout:fine\n', 'stderr:no\n'])
    expect(executor.commands).toEqual([
      { targetId: 'web-1', command: 'ok' },
      { targetId: 'web-1', command: 'bad' },
    ])
  })

  it('masks secrets in streamed chunks, results and errors', async () => {
    const chunks: string[] = []
    const executor = memoryExecutor({
      handler: (_t, req, ctx) => {
        ctx.output('stdout', `token=${req.env?.TOKEN}\n`)
        if (req.command === 'fail') throw new Error(`bad token ${req.env?.TOKEN}`)
        return { stderr: `still ${req.env?.TOKEN}` }
      },
    })
    const request = { command: 'ok', env: { TOKEN: 'hunter2' }, secrets: ['hunter2'] }
    const result = await executor.run(target, request, ctxOf(undefined, { output: (_s, c) => chunks.push(c) }))
    expect(result.stdout).toBe('token=***\n')
    expect(result.stderr).toBe('still ***')
    expect(chunks.join('')).not.toContain('hunter2')
    await expect(executor.run(target, { ...request, command: 'fail' }, ctxOf())).rejects.toThrow('bad token ***')
  })

  it('times out on the clock with EXEC_TIMEOUT naming the target', async () => {
    const clock = new FakeClock({ start: 0 })
    const executor = memoryExecutor({ handler: (_t, _r, ctx) => ctx.clock.sleep(600_000, ctx.signal) })
    const error = await executor.run(target, { command: 'sleep 600', timeoutMs: 30_000 }, ctxOf(clock)).catch((e: unknown) => e)
    expect(error).toMatchObject({ code: 'EXEC_TIMEOUT', message: expect.stringContaining('web-1') })
    expect(clock.now()).toBe(30_000)
  })

  it('rejects with the abort reason when the handler ignores the signal', async () => {
    const controller = new AbortController()
    const executor = memoryExecutor({ handler: () => new Promise(() => {}) })
    const pending = executor.run(target, 'hang', ctxOf(undefined, { signal: controller.signal }))
    const reason = new Error('stop')
    setTimeout(() => controller.abort(reason), 10)
    await expect(pending).rejects.toBe(reason)
  })

  it('adds latency on its clock', async () => {
    const clock = new FakeClock({ start: 0 })
    const executor = memoryExecutor({ clock, latencyMs: 250, handler: () => ({}) })
    const result = await executor.run(target, 'x', ctxOf())
    expect(result.durationMs).toBe(250)
  })
})
