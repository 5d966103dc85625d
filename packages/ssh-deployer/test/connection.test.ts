// The pool against a real sshd: one TCP connection per host reused by many commands, a
// dropped connection mid-command fails clearly and is never re-run, connecting is retried
// (a refused login is not), and close() ends everything.
import { getEventListeners } from 'node:events'
import { readFileSync } from 'node:fs'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shellQuote } from '@org/rolling-core'
import { SshError } from '../src/index.js'
import { executorFor, recorder } from './support.js'
import { freePort, keygen, skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const skip = skipWithoutSshd()

async function until(what: string, check: () => boolean, ms = 10_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 25))
  }
}

const lines = (file: string) => {
  try {
    return readFileSync(file, 'utf8').split('\n').filter(Boolean)
  } catch {
    return []
  }
}

describe.skipIf(skip)('connection pool (OpenSSH on loopback)', () => {
  let sshd: Sshd
  let dir: string
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-pool-'))
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('reuses one TCP connection per host for many commands, sequential and concurrent', async () => {
    const executor = executorFor(sshd, {}, ['127.0.0.4', '127.0.0.5'])
    const hosts = [
      { id: 'a', address: '127.0.0.4' },
      { id: 'b', address: '127.0.0.5' },
    ]
    const { ctx } = recorder()
    try {
      for (let i = 0; i < 10; i++) for (const host of hosts) expect((await executor.run(host, `echo ${i}`, ctx)).stdout).toBe(`${i}\n`)
      // More at once than maxChannels (8): queued on the same connection, not a second one.
      // All 20 share the caller's signal, which gets one abort listener, not one per call
      // (20 would be Node's MaxListenersExceededWarning, and a linear cost on each add).
      const pending = Array.from({ length: 20 }, (_, i) => executor.run(hosts[i % 2]!, `echo $SSH_CONNECTION`, ctx))
      let most = 0
      const sample = setInterval(() => {
        most = Math.max(most, getEventListeners(ctx.signal, 'abort').length)
      }, 1)
      const results = await Promise.all(pending).finally(() => clearInterval(sample))
      expect(most).toBe(1)
      for (const [i, r] of results.entries()) expect(r.stdout.split(' ')[2]).toBe(hosts[i % 2]!.address)
    } finally {
      await executor.close()
    }
    // Counted on the server side: sshd logs every TCP connection it accepts.
    expect(sshd.connectionsTo('127.0.0.4')).toBe(1)
    expect(sshd.connectionsTo('127.0.0.5')).toBe(1)
    const stats = executor.stats()
    expect(stats.map((s) => [s.target, s.connections, s.commands])).toEqual([
      ['a', 1, 20],
      ['b', 1, 20],
    ])
    for (const s of stats) {
      expect(s.connectMs).toBeGreaterThan(0)
      expect(s.totalMs).toBeGreaterThanOrEqual(s.commandMs)
    }
  })

  it('fails clearly when the connection drops mid-command, and never runs it again', async () => {
    const executor = executorFor(sshd, {}, ['127.0.0.6'])
    const host = { id: 'drop', address: '127.0.0.6' }
    const count = join(dir, 'runs')
    const parent = join(dir, 'sshd-pid')
    const { ctx } = recorder()
    try {
      const pending = executor.run(host, `echo run >> ${shellQuote(count)}; echo $PPID > ${shellQuote(parent)}; exec sleep 30`, ctx)
      pending.catch(() => {})
      await until('the command to start', () => lines(parent).length === 1 && lines(count).length === 1)
      const sshdSession = Number(lines(parent)[0])
      expect(sshdSession).toBeGreaterThan(1)
      expect(sshdSession).not.toBe(sshd.pid)
      // The sshd process serving this session dies: the connection drops under the command.
      process.kill(sshdSession, 'SIGKILL')
      const error = await pending.then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(SshError)
      expect(error).toMatchObject({ reason: 'connection-lost' })
      expect((error as Error).message).toMatch(/lost while .* was running.*NOT re-run/)
      // The pool reconnects for the next command; the first one was not replayed.
      expect((await executor.run(host, 'echo again', ctx)).stdout).toBe('again\n')
      await new Promise((resolve) => setTimeout(resolve, 300))
      expect(lines(count)).toEqual(['run'])
      expect(executor.stats()[0]?.connections).toBe(2)
    } finally {
      await executor.close()
    }
  })

  it('retries connecting with backoff, then fails naming the host', async () => {
    const port = await freePort()
    const executor = executorFor(sshd, { port, retry: { retries: 2, minTimeoutMs: 50, maxTimeoutMs: 50 } })
    const { ctx } = recorder()
    const started = Date.now()
    const error = await executor.run({ id: 'nobody', address: '127.0.0.7' }, 'true', ctx).catch((e: unknown) => e)
    expect(error).toMatchObject({ reason: 'connect', code: 'ADAPTER' })
    expect((error as Error).message).toContain(`127.0.0.7:${port}`)
    expect(Date.now() - started).toBeGreaterThanOrEqual(100)
    await executor.close()
  })

  it('connects once sshd comes up while it is retrying', async () => {
    const port = await freePort()
    const executor = executorFor(sshd, {
      port,
      hostKeys: { knownHostsText: `[127.0.0.8]:${port} ${sshd.hostKeyPub}` },
      retry: { retries: 20, minTimeoutMs: 100, maxTimeoutMs: 200 },
    })
    let late: Sshd | undefined
    try {
      const pending = executor.run({ id: 'late', address: '127.0.0.8' }, 'echo up', recorder().ctx)
      await new Promise((resolve) => setTimeout(resolve, 400))
      // Same host key as the first server, on the port the executor keeps dialling.
      late = await startSshd({ clientKeyFile: sshd.clientKeyFile, hostKeyFile: join(sshd.dir, 'host_ed25519'), port })
      expect((await pending).stdout).toBe('up\n')
      const stats = executor.stats()[0]
      expect(stats?.connections).toBe(1)
      expect(stats?.connectFailures).toBeGreaterThan(0)
    } finally {
      await executor.close()
      await late?.stop()
    }
  })

  it('does not retry a refused login', async () => {
    const other = join(dir, 'stranger')
    const { key } = await keygen(other)
    const executor = executorFor(sshd, { privateKey: key, retry: { retries: 3, minTimeoutMs: 50, maxTimeoutMs: 50 } }, ['127.0.0.9'])
    const before = sshd.connectionsTo('127.0.0.9')
    const error = await executor.run({ id: 'x', address: '127.0.0.9' }, 'true', recorder().ctx).catch((e: unknown) => e)
    expect(error).toMatchObject({ reason: 'auth' })
    await until('sshd to log the attempt', () => sshd.connectionsTo('127.0.0.9') > before)
    await new Promise((resolve) => setTimeout(resolve, 200))
    expect(sshd.connectionsTo('127.0.0.9') - before).toBe(1)
    await executor.close()
  })

  it('rejects calls after close()', async () => {
    const executor = executorFor(sshd)
    await executor.run({ id: 'c', address: '127.0.0.2' }, 'true', recorder().ctx)
    await executor.close()
    await expect(executor.run({ id: 'c', address: '127.0.0.2' }, 'true', recorder().ctx)).rejects.toThrow(/closed/)
  })
})
