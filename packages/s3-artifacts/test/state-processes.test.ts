// Fencing between real processes (as two CI runners) on one moto prefix, at the journal's level:
// a writer SIGSTOPped past its lease finds itself fenced off at SIGCONT, and nothing it writes
// after the takeover lands. The same races through `rolling deploy` / `rolling resume` (a lock
// race in 20 rounds, SIGSTOP, SIGKILL then resume) are in packages/cli/test/state-s3.test.ts.
import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { LockedError } from '@org/rolling-core'
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
})
