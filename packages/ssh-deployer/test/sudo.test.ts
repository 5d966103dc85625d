// sudo: how the command line is built (always), and a real run through sudo when the
// host has it. This machine runs as root without sudo installed; then the run is skipped
// with the reason printed.
import { execFileSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { remoteCommand } from '../src/index.js'
import { executorFor, recorder } from './support.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const target = { id: 'web-1', address: '127.0.0.2' }
const sudoPath = ['/usr/bin/sudo', '/bin/sudo'].find((p) => existsSync(p))

describe('sudo command line', () => {
  it('runs `sudo -n -- /bin/sh -s` and sends the whole script on stdin, none of it in argv', () => {
    const { line, script } = remoteCommand(target, { command: "echo 'hi'; id -u", env: { A: 'x y' }, cwd: '/srv/app' }, { shell: '/bin/sh', sudo: {} })
    expect(line).toBe('exec sudo -n -- /bin/sh -s')
    expect(script).toContain("export A='x y'")
    expect(script).toContain("cd -- /srv/app || exit 1\necho 'hi'; id -u")
  })

  it('names the user with -u, quoted', () => {
    expect(remoteCommand(target, { command: 'true' }, { shell: '/bin/sh', sudo: { user: 'deploy' } }).line).toBe('exec sudo -n -u deploy -- /bin/sh -s')
  })

  it('runs without sudo by default', () => {
    expect(remoteCommand(target, { command: 'true' }, { shell: '/bin/sh', sudo: false }).line).toBe('exec /bin/sh -s')
  })

  it('a command that reads stdin neither eats the rest of the script nor waits', () => {
    const { script } = remoteCommand(target, { command: 'cat; echo after' }, { shell: '/bin/sh', sudo: false })
    expect(execFileSync('/bin/sh', ['-s'], { input: script, encoding: 'utf8', timeout: 5000, stdio: ['pipe', 'pipe', 'ignore'] })).toBe('after\n')
  })
})

const skip = skipWithoutSshd()
// CI installs sudo (.ci/run): there the real run must happen, not skip.
if (!sudoPath && process.env.CI === 'true') throw new Error('[rolling:ssh] CI=true but sudo is not installed: .ci/run must install it')
if (!sudoPath) console.info('[rolling:ssh] skipping the real sudo run: sudo is not installed on this machine (the command line is tested above)')

describe.skipIf(skip || !sudoPath)(`sudo over a real sshd${sudoPath ? '' : ' (skipped: sudo is not installed)'}`, () => {
  let sshd: Sshd
  beforeAll(async () => {
    sshd = await startSshd()
  })
  afterAll(async () => {
    await sshd?.stop()
  })

  it('runs the command as root, and as another user with sudo.user', async () => {
    const asRoot = executorFor(sshd, { sudo: true })
    const asNobody = executorFor(sshd, { sudo: { user: 'nobody' } })
    try {
      expect((await asRoot.run(target, 'id -u', recorder().ctx)).stdout).toBe('0\n')
      expect((await asNobody.run(target, 'id -un', recorder().ctx)).stdout).toBe('nobody\n')
    } finally {
      await asRoot.close()
      await asNobody.close()
    }
  })
})
