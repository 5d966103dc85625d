// The local executor keeps the command (and any secret written into it) out of the
// controller's process arguments: `ps` shows `/bin/sh -s`, the script arrives on stdin.
import { randomUUID } from 'node:crypto'
import { createServer } from 'node:http'
import { describe, expect, it } from 'vitest'
import { localExecutor } from '../../src/local/executor.js'
import { curlConfig, pipeText } from '../../src/shell.js'
import { sampleArgv } from '../../src/testing/proc-args.js'
import { testContext } from './_ctx.js'

describe('local executor: no secret in argv', () => {
  it('a secret in the command, its env and a URL fed to curl never show in /proc/*/cmdline', async () => {
    const secret = `sig${randomUUID().replaceAll('-', '')}`
    const server = createServer((req, res) => {
      setTimeout(() => res.writeHead(req.url?.includes(secret) ? 200 : 403).end('ok'), 300)
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const url = `http://127.0.0.1:${(server.address() as { port: number }).port}/b.tgz?X-Amz-Signature=${secret}`
    const sampler = sampleArgv()
    try {
      const command = `token=${secret}; sleep 0.3; printf '%s' "$TOKEN" | wc -c; ${pipeText(curlConfig(url))}curl -fsS -K -`
      const result = await localExecutor().run({ id: 'local', address: '127.0.0.1' }, { command, env: { TOKEN: secret }, secrets: [secret] }, testContext())
      expect(result.exitCode, result.stderr).toBe(0)
      expect(result.stdout).toBe(`${secret.length}\nok`)
    } finally {
      await sampler.stop()
      await new Promise((resolve) => server.close(resolve))
    }
    const lines = [...sampler.seen]
    expect(lines.filter((l) => l.includes(secret))).toEqual([])
    // It saw the run, so it could have seen a leak.
    expect(lines).toContain('/bin/sh -s')
    expect(
      lines.some((l) => l.startsWith('curl ')),
      'curl was never sampled',
    ).toBe(true)
  })
})
