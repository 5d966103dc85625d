// The lock keeps two rollouts of one service apart: these tests take real lock files,
// use a really dead pid for staleness, and check the messages a user will read.
import { spawn, spawnSync } from 'node:child_process'
import { once } from 'node:events'
import * as fs from 'node:fs'
import * as os from 'node:os'
import * as path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { type RollingError, ValidationError } from '../src/errors.js'
import { fileLock, isProcessAlive, LockedError, memoryLock, type Lock, type LockHolder } from '../src/lock.js'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'rolling-lock-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
let n = 0

const since = '2026-11-26T05:40:00.000Z'
const holder = (runId: string, over: Partial<LockHolder> = {}): LockHolder => ({
  runId,
  pid: process.pid,
  host: os.hostname(),
  since,
  service: 'checkout',
  ...over,
})

/** The pid of a process that has exited and been reaped. */
function deadPid(): number {
  const child = spawnSync(process.execPath, ['-e', ''])
  expect(child.pid).toBeGreaterThan(0)
  return child.pid as number
}

async function locked(promise: Promise<unknown>): Promise<LockedError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(LockedError)
  expect((error as RollingError).code).toBe('LOCKED')
  return error as LockedError
}

describe.each([
  ['file', () => fileLock({ dir: path.join(tmp, `locks-${++n}`) })],
  ['memory', () => memoryLock()],
] as const)('%s lock', (_kind, make: () => Lock) => {
  it('refuses a second acquire, naming the holder and since when', async () => {
    const lock = make()
    const lease = await lock.acquire('checkout', holder('r-abc'))
    expect(lease.holder).toEqual(holder('r-abc'))
    expect(await lock.inspect('checkout')).toEqual(holder('r-abc'))

    const error = await locked(lock.acquire('checkout', holder('r-def')))
    expect(error.stale).toBe(false)
    expect(error.holder).toEqual(holder('r-abc'))
    expect(error.message).toBe(
      `[rolling] service checkout is already being rolled out by run r-abc (pid ${process.pid} on host ${os.hostname()}) since ${since}`,
    )
    // Another service is another lock.
    await (await lock.acquire('cart', holder('r-def', { service: 'cart' }))).release()
    await lease.release()
  })

  it('can be taken again after release; a second release is harmless', async () => {
    const lock = make()
    const first = await lock.acquire('checkout', holder('r-1'))
    await first.release()
    await first.release()
    expect(await lock.inspect('checkout')).toBeUndefined()
    const second = await lock.acquire('checkout', holder('r-2'))
    expect(await lock.inspect('checkout')).toMatchObject({ runId: 'r-2' })
    await second.release()
  })

  it('calls a lock held by a dead process on this host stale, and break removes it', async () => {
    const lock = make()
    const pid = deadPid()
    expect(isProcessAlive(pid)).toBe(false)
    await lock.acquire('checkout', holder('r-abc', { pid }))

    const error = await locked(lock.acquire('checkout', holder('r-new')))
    expect(error.stale).toBe(true)
    expect(error.message).toBe(
      `[rolling] service checkout is locked by run r-abc (pid ${pid} on host ${os.hostname()}) since ${since}; ` +
        'that process is not running: the lock is stale. ' +
        'Break it with breakLock / `rolling unlock checkout` if no rollout of checkout is in progress.',
    )

    expect(await lock.break('checkout')).toMatchObject({ runId: 'r-abc', pid })
    expect(await lock.break('checkout')).toBeUndefined()
    await (await lock.acquire('checkout', holder('r-new'))).release()
  })

  it('cannot tell a holder on another host is dead, so does not call it stale', async () => {
    const lock = make()
    const lease = await lock.acquire('checkout', holder('r-abc', { pid: deadPid(), host: 'web-ci' }))
    const error = await locked(lock.acquire('checkout', holder('r-new')))
    expect(error.stale).toBe(false)
    expect(error.message).toMatch(/already being rolled out by run r-abc \(pid \d+ on host web-ci\)/)
    await lease.release()
  })

  it('a release after the lock was broken and retaken leaves the new holder alone', async () => {
    const lock = make()
    const old = await lock.acquire('checkout', holder('r-old'))
    await lock.break('checkout')
    const current = await lock.acquire('checkout', holder('r-new'))
    await old.release()
    expect(await lock.inspect('checkout')).toMatchObject({ runId: 'r-new' })
    await current.release()
  })

  it('rejects service names that cannot be file names', async () => {
    const lock = make()
    for (const bad of ['', '../etc/passwd', 'a/b', '.hidden', '-x', 'sp ace', 'x'.repeat(201)]) {
      const error = await lock.acquire(bad, holder('r-1')).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(ValidationError)
      expect((error as ValidationError).option).toBe('service')
      await expect(lock.inspect(bad)).rejects.toBeInstanceOf(ValidationError)
      await expect(lock.break(bad)).rejects.toBeInstanceOf(ValidationError)
    }
    await (await lock.acquire('checkout-v2_eu.west', holder('r-1'))).release()
  })
})

describe('fileLock', () => {
  it('writes <dir>/<service>.lock with the holder, and removes it on release', async () => {
    const dir = path.join(tmp, 'plain', 'nested')
    const lock = fileLock({ dir })
    expect(lock.location).toBe(dir)
    const lease = await lock.acquire('checkout', holder('r-abc'))
    const file = path.join(dir, 'checkout.lock')
    expect(JSON.parse(fs.readFileSync(file, 'utf8'))).toEqual(holder('r-abc'))
    // A second process sees the same lock through its own instance.
    await locked(fileLock({ dir }).acquire('checkout', holder('r-def')))
    await lease.release()
    expect(fs.existsSync(file)).toBe(false)
  })

  it('counts an empty or corrupt lock file (crash while taking it) as stale', async () => {
    const dir = path.join(tmp, 'corrupt')
    fs.mkdirSync(dir)
    const lock = fileLock({ dir })
    for (const content of ['', '{"runId":"r-a', '{"runId":1}']) {
      fs.writeFileSync(path.join(dir, 'checkout.lock'), content)
      const error = await locked(lock.acquire('checkout', holder('r-new')))
      expect(error.stale).toBe(true)
      expect(error.message).toMatch(
        /^\[rolling\] service checkout is locked by run unknown \(pid unknown on host unknown\) since unknown; .*empty or corrupt.*the lock is stale\. Break it with/,
      )
      expect(await lock.inspect('checkout')).toMatchObject({ runId: 'unknown', service: 'checkout' })
      expect(await lock.break('checkout')).toMatchObject({ runId: 'unknown' })
    }
    await (await lock.acquire('checkout', holder('r-new'))).release()
  })

  it('lets exactly one of many concurrent acquires win', async () => {
    const dir = path.join(tmp, 'race')
    const attempts = Array.from({ length: 20 }, (_, i) => fileLock({ dir }).acquire('checkout', holder(`r-${i}`)))
    const results = await Promise.allSettled(attempts)
    const won = results.filter((r) => r.status === 'fulfilled')
    expect(won).toHaveLength(1)
    for (const r of results) if (r.status === 'rejected') expect(r.reason).toBeInstanceOf(LockedError)
  })
})

describe('isProcessAlive', () => {
  it('knows this process, a dead one, a zombie, and nonsense', () => {
    expect(isProcessAlive(process.pid)).toBe(true)
    expect(isProcessAlive(deadPid())).toBe(false)
    expect(isProcessAlive(0)).toBe(false)
    expect(isProcessAlive(-1)).toBe(false)
    expect(isProcessAlive(1.5)).toBe(false)
    // pid 1 belongs to root here: EPERM (or we are root), either way alive.
    expect(isProcessAlive(1)).toBe(true)
  })

  it.runIf(fs.existsSync('/proc/self/stat'))('treats a zombie as dead', async () => {
    // `exec sleep` replaces the shell, and sleep never reaps its backgrounded child: a zombie.
    // The child outlives the exec (0.2 s), or the shell could reap it first and leave no trace.
    const parent = spawn('sh', ['-c', 'sleep 0.2 & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] })
    try {
      const [line] = (await once(parent.stdout, 'data')) as [Buffer]
      const zombie = Number(line.toString().trim())
      const state = () => fs.readFileSync(`/proc/${zombie}/stat`, 'utf8').split(') ')[1]?.[0]
      for (let i = 0; i < 300 && state() !== 'Z'; i++) await new Promise((r) => setTimeout(r, 10))
      expect(state()).toBe('Z')
      expect(() => process.kill(zombie, 0)).not.toThrow() // signal 0 alone would call it alive
      expect(isProcessAlive(zombie)).toBe(false)
    } finally {
      parent.kill('SIGKILL')
    }
  })
})
