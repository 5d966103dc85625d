// No secret in process arguments on the host: while a command with a secret env value and
// the recipe's download of a presigned URL run over a real sshd (on loopback, so the host's
// processes are this machine's), no /proc/*/cmdline holds the value or the signature.
import { mkdtemp, rm, readFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { randomUUID } from 'node:crypto'
import { sampleArgv } from '@org/rolling-core/testing'
import { fetchTo } from '../src/release/commands.js'
import { executorFor, recorder } from './support.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const skip = skipWithoutSshd()

describe.skipIf(skip)('secrets stay out of argv on the host (OpenSSH on loopback)', () => {
  let sshd: Sshd
  let dir: string
  let server: Server
  let base: string
  const signature = `sig${randomUUID().replaceAll('-', '')}`
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-argv-'))
    // Like a presigned URL, and slow to answer: the download is running while /proc is read.
    server = createServer((req, res) => {
      const url = new URL(req.url ?? '/', 'http://x')
      if (url.searchParams.get('X-Amz-Signature') !== signature) return void res.writeHead(403).end('denied')
      setTimeout(() => res.writeHead(200).end('the build'), 800)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
  })
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve))
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('env values, the script and the presigned URL never show in /proc/*/cmdline', async () => {
    const executor = executorFor(sshd)
    const token = `tok-${randomUUID()}`
    const file = join(dir, 'build.tgz')
    const url = `${base}/app/1.0.0.tgz?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=${signature}&X-Amz-Expires=60`
    const sampler = sampleArgv()
    try {
      const { ctx } = recorder()
      // The token is in the env and in the command text itself; both used to be in `sh -c`'s argv.
      const result = await executor.run(
        { id: 'host-1', address: '127.0.0.2' },
        { command: `marker=${token}; sleep 0.5; printf '%s' "$TOKEN" | wc -c; ${fetchTo(url, file, 10)}`, env: { TOKEN: token }, secrets: [token] },
        ctx,
      )
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.stdout.trim()).toBe(String(token.length))
      expect(await readFile(file, 'utf8')).toBe('the build')
    } finally {
      await sampler.stop()
      await executor.close()
    }
    const lines = [...sampler.seen]
    expect(lines.filter((l) => l.includes(token))).toEqual([])
    expect(lines.filter((l) => l.includes(signature))).toEqual([])
    // The sampling saw the run itself, so it could have seen a leak.
    expect(
      lines.some((l) => /\/bin\/sh -s$/.test(l)),
      'the remote shell was never sampled',
    ).toBe(true)
    expect(
      lines.some((l) => l.startsWith('curl ')),
      'curl was never sampled',
    ).toBe(true)
  })
})
