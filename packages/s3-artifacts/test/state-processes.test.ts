// Races between real processes (as two CI runners) on one moto prefix: a lock race in 20 rounds,
// a holder SIGSTOPped past its lease that finds itself fenced off at SIGCONT, and a holder
// SIGKILLed whose journal another "machine" reads and continues.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { LockedError, resume } from '@org/rolling-core'
import { memoryFleet } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3State } from '../src/index.js'
import { type Moto, startMoto } from './moto.js'

const RUNNER = fileURLToPath(new URL('./fixtures/runner.ts', import.meta.url))
const children: ChildProcess[] = []

function runner(args: string[]) {
  const child = spawn(process.execPath, ['--conditions=@org/source', '--import', 'tsx', RUNNER, ...args], { stdio: ['pipe', 'pipe', 'pipe'] })
  children.push(child)
  const lines: Record<string, unknown>[] = []
  let stderr = ''
  let buffer = ''
  child.stdout?.on('data', (chunk: Buffer) => {
    buffer += chunk.toString()
    for (let at = buffer.indexOf('\n'); at !== -1; at = buffer.indexOf('\n')) {
      lines.push(JSON.parse(buffer.slice(0, at)) as Record<string, unknown>)
      buffer = buffer.slice(at + 1)
    }
  })
  child.stderr?.on('data', (chunk: Buffer) => {
    stderr += chunk.toString()
  })
  const exited = once(child, 'exit') as Promise<[number | null, string | null]>
  const line = async (test: (l: Record<string, unknown>) => boolean, ms: number) => {
    const deadline = Date.now() + ms
    while (Date.now() < deadline) {
      const found = lines.find(test)
      if (found) return found
      if (child.exitCode !== null) break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    throw new Error(`runner ${args.join(' ')}: no such line within ${ms} ms; got ${JSON.stringify(lines)}; stderr ${stderr}`)
  }
  return { child, lines, exited, line, stderr: () => stderr }
}

describe('S3 state between processes (moto)', () => {
  let s3: Moto
  beforeAll(async () => {
    s3 = await startMoto('state')
  }, 30_000)
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    await s3?.stop()
  })

  it('two runners race for one service 20 times: exactly one holds it each round, the other is refused naming it', async () => {
    const rounds = 20
    const a = runner(['race', s3.endpoint, s3.bucket, 'web', 'runner-a', `${rounds},400`])
    const b = runner(['race', s3.endpoint, s3.bucket, 'web', 'runner-b', `${rounds},400`])
    await Promise.all([a.line((l) => l.ready === true, 30_000), b.line((l) => l.ready === true, 30_000)])
    const start = String(Date.now() + 300)
    a.child.stdin?.end(`${start}\n`)
    b.child.stdin?.end(`${start}\n`)
    await Promise.all([a.exited, b.exited])
    a.lines.shift()
    b.lines.shift()
    expect(a.stderr() + b.stderr()).toBe('')
    for (let round = 0; round < rounds; round++) {
      const both = [a.lines[round], b.lines[round]]
      expect(both.filter((l) => l?.won === true)).toHaveLength(1)
      const loser = both.find((l) => l?.won === false)
      expect(loser?.locked).toBe(true)
      expect(String(loser?.message)).toMatch(/already being rolled out by run runner-[ab]-\d+ \(pid \d+ on host runner-[ab]/)
    }
  }, 60_000)

  it('a holder SIGSTOPped past its lease: the next one takes over explicitly, the first finds itself fenced off and stops', async () => {
    const first = runner(['hold', s3.endpoint, s3.bucket, 'api', 'paused-runner', '1500'])
    const held = await first.line((l) => 'held' in l, 20_000)
    first.child.kill('SIGSTOP')
    await new Promise((resolve) => setTimeout(resolve, 1800))
    const state = s3State({ bucket: s3.bucket, prefix: 'hold/', clientConfig: s3.clientConfig })
    const refused = (await state.lock
      .acquire('api', { runId: 'next', pid: process.pid, host: 'runner-b', since: new Date().toISOString(), service: 'api' })
      .catch((e: unknown) => e)) as LockedError
    expect(refused).toBeInstanceOf(LockedError)
    expect(refused.stale).toBe(true)
    expect(await state.lock.break('api')).toMatchObject({ runId: 'paused-runner' })
    const lease = await state.lock.acquire('api', { runId: 'next', pid: process.pid, host: 'runner-b', since: new Date().toISOString(), service: 'api' })
    expect(lease.token).toBe(Number(held.held) + 1)
    const journal = state.journal('api')
    const before = await journal.read()
    journal.append({ type: 'resumed', by: 'next' })
    await journal.flush()
    first.child.kill('SIGCONT')
    const [code] = await first.exited
    expect(code).toBe(3)
    const stopped = await first.line((l) => 'stopped' in l, 1000)
    expect(String(stopped.stopped)).toMatch(/lost the lock|written by another run/)
    const after = await journal.read()
    // Nothing of the fenced-off runner landed after the takeover.
    expect(after).toEqual([...before, { type: 'resumed', by: 'next' }])
    await lease.release()
    state.destroy()
  }, 60_000)

  it('a holder SIGKILLed mid-run: another machine reads its journal and carries on after an explicit unlock', async () => {
    const first = runner(['hold', s3.endpoint, s3.bucket, 'worker', 'killed-runner', '1000'])
    await first.line((l) => 'held' in l, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 200))
    first.child.kill('SIGKILL')
    await first.exited
    const state = s3State({ bucket: s3.bucket, prefix: 'hold/', clientConfig: s3.clientConfig })
    const records = await state.journal('worker').read()
    expect(records[0]).toEqual({ type: 'start', runId: 'killed-runner' })
    expect(records.length).toBeGreaterThan(1)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    const stale = (await state.lock
      .acquire('worker', { runId: 'r2', pid: process.pid, host: 'b', since: new Date().toISOString(), service: 'worker' })
      .catch((e: unknown) => e)) as LockedError
    expect(stale.stale).toBe(true)
    await state.lock.break('worker')
    const lease = await state.lock.acquire('worker', { runId: 'r2', pid: process.pid, host: 'b', since: new Date().toISOString(), service: 'worker' })
    const journal = state.journal('worker')
    expect(await journal.read()).toEqual(records)
    journal.append({ type: 'end' })
    await journal.flush()
    expect((await journal.read()).at(-1)).toEqual({ type: 'end' })
    await lease.release()
    state.destroy()
  }, 60_000)

  it('a rollout SIGKILLed mid-batch is finished by resume() from another state folder once its lease ended', async () => {
    const first = runner(['rollout', s3.endpoint, s3.bucket, 'shop', 'runner-a', '1000'])
    await first.line((l) => l.batch === true, 20_000)
    await new Promise((resolve) => setTimeout(resolve, 600))
    first.child.kill('SIGKILL')
    await first.exited
    const state = s3State({ bucket: s3.bucket, prefix: 'resume/', clientConfig: s3.clientConfig })
    const before = await state.journal('shop').read()
    expect(before.some((r) => r.type === 'end')).toBe(false)
    await new Promise((resolve) => setTimeout(resolve, 1100))
    // The first runner's hosts lived in its memory: this fleet is made to match what reached them
    // before the kill (the build it deployed), as real hosts would have kept it.
    const fleet = memoryFleet({ size: 6, service: 'shop' })
    const builtAt = String((await first.line((l) => 'builtAt' in l, 1000)).builtAt)
    fleet.publish('v2', { builtAt })
    for (const line of first.lines) {
      const host = typeof line.deployed === 'string' ? fleet.hosts.get(line.deployed) : undefined
      if (host) Object.assign(host, { version: 'v2', builtAt })
    }
    expect(first.lines.filter((l) => 'deployed' in l).length).toBeGreaterThan(0)
    const result = await resume({ ...fleet.adapters, settle: { delay: 0 }, lock: state.lock, journal: state.journal('shop') })
    expect({ status: result.status, reason: result.reason }).toEqual({ status: 'succeeded', reason: undefined })
    expect(result.status).toBe('succeeded')
    expect(await state.lock.inspect('shop')).toBeUndefined()
    expect((await state.journal('shop').read()).at(-1)?.type).toBe('end')
    state.destroy()
  }, 60_000)
})
