// Authentication against a real sshd: an encrypted private key with its passphrase, and
// an SSH agent (a real ssh-agent holding the key) with no key given to the executor.
import { type ChildProcess, execFile, spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { sshExecutor } from '../src/index.js'
import { recorder } from './support.js'
import { keygen, skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const run = promisify(execFile)
const skip = skipWithoutSshd()
const target = { id: 'web-1', address: '127.0.0.2' }

describe.skipIf(skip)('authentication (OpenSSH on loopback)', () => {
  let sshd: Sshd
  let dir: string
  let agent: ChildProcess | undefined
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-auth-'))
    await keygen(join(dir, 'locked'), 'correct horse')
    sshd = await startSshd({ clientKeyFile: join(dir, 'locked') })
  })
  afterAll(async () => {
    agent?.kill('SIGTERM')
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })
  const options = () => ({ username: 'root', port: sshd.port, hostKeys: { knownHostsText: sshd.knownHosts(['127.0.0.2']) } })

  it('logs in with an encrypted key file and its passphrase', async () => {
    const executor = sshExecutor({ ...options(), privateKeyPath: join(dir, 'locked'), passphrase: 'correct horse' })
    expect((await executor.run(target, 'echo in', recorder().ctx)).stdout).toBe('in\n')
    await executor.close()
  })

  it('refuses a wrong or missing passphrase at setup', async () => {
    const privateKey = await readFile(join(dir, 'locked'), 'utf8')
    expect(() => sshExecutor({ ...options(), privateKey, passphrase: 'wrong' })).toThrow(/`passphrase`: cannot use the private key/)
    expect(() => sshExecutor({ ...options(), privateKey })).toThrow(/`privateKey`: cannot use the private key.*encrypted/i)
  })

  it('logs in through an SSH agent', async () => {
    const socket = join(dir, 'agent.sock')
    agent = spawn('ssh-agent', ['-D', '-a', socket], { stdio: 'ignore' })
    const deadline = Date.now() + 5000
    while (!existsSync(socket)) {
      if (Date.now() > deadline) throw new Error('ssh-agent did not create its socket')
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    // ssh-add asks for the passphrase through SSH_ASKPASS when there is no terminal.
    await writeFile(join(dir, 'askpass.sh'), "#!/bin/sh\necho 'correct horse'\n", { mode: 0o755 })
    await run('ssh-add', [join(dir, 'locked')], {
      env: { ...process.env, SSH_AUTH_SOCK: socket, SSH_ASKPASS: join(dir, 'askpass.sh'), SSH_ASKPASS_REQUIRE: 'force', DISPLAY: ':0' },
    })
    const executor = sshExecutor({ ...options(), agent: socket })
    expect((await executor.run(target, 'echo agent', recorder().ctx)).stdout).toBe('agent\n')
    await executor.close()
  })
})
