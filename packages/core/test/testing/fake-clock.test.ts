import { describe, expect, it } from 'vitest'
import { FakeClock } from '../../src/testing/index.js'
import { childSignal } from '../../src/signals.js'
import { waitUntil } from '../../src/waiter.js'

describe('FakeClock', () => {
  it('starts where told and moves only with timers', async () => {
    const clock = new FakeClock({ start: 1_000, autoAdvance: false })
    expect(clock.now()).toBe(1_000)
    await clock.advance(250)
    expect(clock.now()).toBe(1_250)
  })

  it('auto-advances a chain of 1000 sleeps of 60 s in little real time', async () => {
    const clock = new FakeClock({ start: 0 })
    const started = performance.now()
    for (let i = 0; i < 1000; i++) await clock.sleep(60_000)
    expect(clock.now()).toBe(60_000_000)
    expect(performance.now() - started).toBeLessThan(5_000)
    expect(clock.pendingTimers).toBe(0)
  })

  it('auto-advances many concurrent sleeps, each at its own time', async () => {
    const clock = new FakeClock({ start: 0 })
    const woke: number[] = []
    await Promise.all(Array.from({ length: 10_000 }, (_, i) => clock.sleep((i % 100) * 1000).then(() => woke.push(clock.now()))))
    expect(woke).toHaveLength(10_000)
    expect(woke).toEqual([...woke].sort((a, b) => a - b))
    expect(clock.now()).toBe(99_000)
  })

  it('rejects a sleep with the abort reason, and an already aborted one at once', async () => {
    const clock = new FakeClock({ autoAdvance: false })
    const controller = new AbortController()
    const sleeping = clock.sleep(60_000, controller.signal)
    const reason = new Error('stop')
    controller.abort(reason)
    await expect(sleeping).rejects.toBe(reason)
    expect(clock.pendingTimers).toBe(0)
    await expect(clock.sleep(10, controller.signal)).rejects.toBe(reason)
  })

  it('clearTimeout cancels a timer', async () => {
    const clock = new FakeClock({ autoAdvance: false })
    let fired = 0
    const handle = clock.setTimeout(() => fired++, 100)
    clock.setTimeout(() => fired++, 200)
    expect(clock.pendingTimers).toBe(2)
    clock.clearTimeout(handle)
    expect(clock.pendingTimers).toBe(1)
    await clock.advance(1_000)
    expect(fired).toBe(1)
  })

  it('advance fires due timers in time order, equal times in registration order, and chained sleeps', async () => {
    const clock = new FakeClock({ start: 0, autoAdvance: false })
    const order: string[] = []
    clock.setTimeout(() => order.push('b@200'), 200)
    clock.setTimeout(() => order.push('a@100'), 100)
    clock.setTimeout(() => order.push('c@200'), 200)
    clock.setTimeout(() => order.push('late@5000'), 5_000)
    const chain = (async () => {
      await clock.sleep(300)
      order.push(`chain1@${clock.now()}`)
      await clock.sleep(300)
      order.push(`chain2@${clock.now()}`)
    })()
    await clock.advance(1_000)
    await chain
    expect(order).toEqual(['a@100', 'b@200', 'c@200', 'chain1@300', 'chain2@600'])
    expect(clock.now()).toBe(1_000)
    expect(clock.pendingTimers).toBe(1)
    await clock.runAll()
    expect(order.at(-1)).toBe('late@5000')
    expect(clock.now()).toBe(5_000)
  })

  it('keeps auto-advancing timers left after a manual advance', async () => {
    const clock = new FakeClock({ start: 0 })
    const late = clock.sleep(10_000)
    await clock.advance(1_000)
    await late
    expect(clock.now()).toBe(10_000)
  })

  it('does not advance by itself when autoAdvance is off', async () => {
    const clock = new FakeClock({ start: 0, autoAdvance: false })
    let fired = false
    clock.setTimeout(() => (fired = true), 10)
    await new Promise((resolve) => setTimeout(resolve, 20))
    expect(fired).toBe(false)
    expect(clock.now()).toBe(0)
  })

  it('waits for in-flight I/O before jumping to a deadline', async () => {
    const clock = new FakeClock({ start: 0 })
    const child = childSignal(undefined, { clock, timeoutMs: 300_000, what: 'the write' })
    const { signal } = child
    const { writeFile, rm } = await import('node:fs/promises')
    const path = `/tmp/rolling-fake-clock-${process.pid}`
    // The only pending timer is the 300 s deadline; the write must win anyway.
    await writeFile(path, 'x'.repeat(1 << 20))
    expect(signal.aborted).toBe(false)
    child.dispose()
    await rm(path, { force: true })
  })

  it('drives waitUntil with its jittered backoff to a timeout in no real time', async () => {
    const clock = new FakeClock({ start: 0 })
    const started = performance.now()
    await expect(waitUntil(() => ({ state: 'retry', observed: 'draining' }), { what: 'drain', timeoutMs: 300_000, clock })).rejects.toMatchObject({
      code: 'TIMEOUT',
    })
    expect(clock.now()).toBe(300_000)
    expect(performance.now() - started).toBeLessThan(2_000)
  })

  it('runAll refuses to loop forever on a self-re-arming timer', async () => {
    const clock = new FakeClock({ autoAdvance: false })
    const rearm = () => void clock.setTimeout(rearm, 1)
    rearm()
    await expect(clock.runAll({ limit: 50 })).rejects.toThrow(/re-arming/)
  })
})

describe('FakeClock busy', () => {
  it('holds auto-advance while busy() is true, and moves on once it turns false', async () => {
    let busy = true
    const clock = new FakeClock({ start: 0, busy: () => busy })
    let fired = false
    clock.setTimeout(() => (fired = true), 60_000)
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(fired).toBe(false)
    expect(clock.now()).toBe(0)
    busy = false
    await clock.sleep(60_000)
    expect(fired).toBe(true)
    expect(clock.now()).toBe(60_000)
  })

  it('keeps a deadline from firing while an HTTP answer is awaited on a keep-alive socket', async () => {
    const { createServer, Agent, request } = await import('node:http')
    const server = createServer((req, res) => {
      // The answer takes real time; the socket is open and idle meanwhile (no libuv request).
      setTimeout(() => res.end(req.url), req.url === '/slow' ? 150 : 0)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const agent = new Agent({ keepAlive: true, maxSockets: 1 })
    let inFlight = 0
    const get = (path: string) =>
      new Promise<string>((resolve, reject) => {
        inFlight++
        const req = request({ host: '127.0.0.1', port, path, agent }, (res) => {
          let body = ''
          res.on('data', (c: Buffer) => (body += c))
          res.on('end', () => {
            inFlight--
            resolve(body)
          })
        })
        req.on('error', reject)
        req.end()
      })
    try {
      await get('/warm') // opens the keep-alive socket
      const clock = new FakeClock({ start: 0, busy: () => inFlight > 0 })
      const child = childSignal(undefined, { clock, timeoutMs: 300_000, what: 'the call' })
      const { signal } = child
      expect(await get('/slow')).toBe('/slow')
      expect(signal.aborted).toBe(false)
      expect(clock.now()).toBe(0)
      child.dispose()
    } finally {
      agent.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })

  it('lets time move on after busyTimeoutMs when busy() is stuck at true', async () => {
    const clock = new FakeClock({ start: 0, busy: () => true, busyTimeoutMs: 100 })
    const started = performance.now()
    await clock.sleep(60_000)
    const took = performance.now() - started
    expect(clock.now()).toBe(60_000)
    expect(took).toBeGreaterThanOrEqual(90)
    expect(took).toBeLessThan(2_000)
  })

  it('rejects a busyTimeoutMs that is not a number >= 0', () => {
    expect(() => new FakeClock({ busyTimeoutMs: -1 })).toThrow(/busyTimeoutMs.*-1/)
  })
})
