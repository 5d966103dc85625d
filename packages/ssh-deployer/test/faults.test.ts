// Connect faults never end the process: a port that accepts TCP and never speaks SSH, a
// known_hosts that only knows an RSA key of a server presenting ed25519, and a connection
// dropped under a command each fail that call with a clear error naming host:port.
import { execFile } from 'node:child_process'
import { readFile, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest'
import ssh2 from 'ssh2'
import { SshError, sshExecutor } from '../src/index.js'
import { executorFor, recorder } from './support.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const skip = skipWithoutSshd()

/** Records what escapes to the process: any entry fails the test. */
function escapes() {
  const seen: unknown[] = []
  const onError = (error: unknown) => void seen.push(error)
  beforeEach(() => {
    seen.length = 0
    process.on('uncaughtException', onError)
    process.on('unhandledRejection', onError)
  })
  afterEach(async () => {
    // A second 'error' from ssh2 arrives after the first rejection: give it time to show.
    await new Promise((resolve) => setTimeout(resolve, 300))
    process.off('uncaughtException', onError)
    process.off('unhandledRejection', onError)
    expect(seen, 'errors escaped to the process').toEqual([])
  })
}

describe('ssh connect faults (no sshd needed)', () => {
  escapes()
  let server: Server
  let port: number
  const sockets = new Set<Socket>()
  beforeAll(async () => {
    // Accepts TCP, never sends a banner.
    server = createServer((socket) => {
      sockets.add(socket)
      socket.on('error', () => {})
      socket.on('close', () => sockets.delete(socket))
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    port = (server.address() as { port: number }).port
  })
  afterAll(async () => {
    for (const s of sockets) s.destroy()
    await new Promise((resolve) => server.close(resolve))
  })

  it('a port that accepts and never speaks SSH fails the call naming host:port, and the process lives', async () => {
    const executor = sshExecutor({
      username: 'root',
      port,
      privateKey: ssh2.utils.generateKeyPairSync('ed25519').private,
      hostKeys: 'insecure-accept-any',
      connectTimeoutMs: 800,
      retry: { retries: 1, minTimeoutMs: 20, maxTimeoutMs: 50 },
    })
    const started = Date.now()
    try {
      const error = await executor.run({ id: 'mute', address: '127.0.0.1' }, 'true', recorder().ctx).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(SshError)
      expect((error as Error).message).toContain(`127.0.0.1:${port}`)
      expect((error as Error).message).toMatch(/no SSH banner within 800 ms/)
      // Two attempts of 800 ms plus backoff; well inside the bound.
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      await executor.close()
    }
  })
})

describe.skipIf(skip)('ssh connect faults (OpenSSH on loopback)', () => {
  escapes()
  let sshd: Sshd
  let dir: string
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-faults-'))
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('known_hosts with only an RSA key for an ed25519 server is refused as a host-key error, and the process lives', async () => {
    await promisify(execFile)('ssh-keygen', ['-q', '-t', 'rsa', '-b', '2048', '-N', '', '-f', join(dir, 'other_rsa')])
    const rsa = (await readFile(join(dir, 'other_rsa.pub'), 'utf8')).split(' ').slice(0, 2).join(' ')
    const executor = executorFor(sshd, { hostKeys: { knownHostsText: `[127.0.0.4]:${sshd.port} ${rsa}` } }, [])
    try {
      const error = await executor.run({ id: 'rsa-only', address: '127.0.0.4' }, 'true', recorder().ctx).then(
        () => undefined,
        (e: unknown) => e,
      )
      expect(error).toBeInstanceOf(SshError)
      expect((error as Error).message).toContain(`127.0.0.4:${sshd.port}`)
      expect((error as Error).message).toMatch(/host key/i)
      expect(error).toMatchObject({ reason: 'host-key' })
    } finally {
      await executor.close()
    }
  })
})
