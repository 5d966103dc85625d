// A hop through a bastion: two real sshd, the target listening on 127.0.0.1 only. The
// proof of the hop is on the server side: the TCP connection the target's sshd serves
// belongs to the bastion's sshd, not to this process.
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { executorFor, recorder } from './support.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const run = promisify(execFile)
const skip = skipWithoutSshd()

describe.skipIf(skip)('bastion (ProxyJump through a second OpenSSH)', () => {
  let bastion: Sshd
  let inner: Sshd
  beforeAll(async () => {
    bastion = await startSshd()
    inner = await startSshd({ listen: '127.0.0.1', clientKeyFile: bastion.clientKeyFile })
  })
  afterAll(async () => {
    await inner?.stop()
    await bastion?.stop()
  })

  const target = () => ({ id: 'private-1', address: '127.0.0.1', port: 8080, labels: { 'ssh.port': String(inner.port) } })
  const knownHosts = () => `${bastion.knownHosts(['127.0.0.2'])}\n${inner.knownHosts(['127.0.0.1'])}`

  it('reaches the target through the bastion over one bastion connection', async () => {
    const executor = executorFor(bastion, { hostKeys: { knownHostsText: knownHosts() }, bastion: { host: '127.0.0.2', port: bastion.port } })
    const { ctx } = recorder()
    try {
      const first = await executor.run(target(), 'echo "$SSH_CONNECTION"', ctx)
      const [clientAddress, clientPort, serverAddress, serverPort] = first.stdout.trim().split(' ')
      expect([serverAddress, serverPort]).toEqual(['127.0.0.1', String(inner.port)])
      // Who holds the client end of the connection the target sshd serves?
      const { stdout } = await run('ss', ['-tnpH', 'state', 'established'])
      const owner = stdout.split('\n').find((l) => l.includes(`${clientAddress}:${clientPort} `) && l.includes(`:${inner.port}`))
      expect(owner, `no socket ${clientAddress}:${clientPort} -> :${inner.port} in\n${stdout}`).toBeDefined()
      expect(owner).toMatch(/users:\(\("sshd"/)
      expect(owner).not.toContain(`pid=${process.pid},`)
      for (let i = 0; i < 5; i++) await executor.run(target(), 'true', ctx)
    } finally {
      await executor.close()
    }
    expect(bastion.logins()).toBe(1)
    expect(inner.logins()).toBe(1)
  })

  it("checks the bastion's host key too", async () => {
    const executor = executorFor(bastion, {
      hostKeys: { knownHostsText: inner.knownHosts(['127.0.0.1']) },
      bastion: { host: '127.0.0.2', port: bastion.port },
    })
    const before = inner.logins()
    const error = await executor.run(target(), 'true', recorder().ctx).catch((e: unknown) => e)
    await executor.close()
    expect(error).toMatchObject({ reason: 'host-key' })
    expect((error as Error).message).toContain(`[127.0.0.2]:${bastion.port}`)
    expect(inner.logins()).toBe(before)
  })

  it("checks the target's host key as seen through the bastion", async () => {
    const executor = executorFor(bastion, {
      hostKeys: { knownHostsText: `${bastion.knownHosts(['127.0.0.2'])}\n${bastion.knownHosts(['127.0.0.1']).replace(`:${bastion.port}`, `:${inner.port}`)}` },
      bastion: { host: '127.0.0.2', port: bastion.port },
    })
    const error = await executor.run(target(), 'true', recorder().ctx).catch((e: unknown) => e)
    await executor.close()
    expect(error).toMatchObject({ reason: 'host-key' })
    expect((error as Error).message).toContain(`[127.0.0.1]:${inner.port}`)
  })
})
