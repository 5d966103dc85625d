// Host key policy against a real sshd: a wrong key is refused before any command runs,
// known_hosts hashed by ssh-keygen -H is understood, pinned fingerprints work, and the
// explicit insecure mode warns. Plus the known_hosts matching rules on their own.
import { execFile } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { shellQuote } from '@org/rolling-core'
import { hostMatches, parseKnownHosts, sshExecutor } from '../src/index.js'
import { executorFor, recorder } from './support.js'
import { keygen, skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const run = promisify(execFile)
const skip = skipWithoutSshd()

describe('known_hosts matching', () => {
  it('matches plain names, [host]:port, lists, wildcards and negation', () => {
    expect(hostMatches('web1,10.0.0.5', '10.0.0.5')).toBe(true)
    expect(hostMatches('[10.0.0.5]:2222', '[10.0.0.5]:2222')).toBe(true)
    expect(hostMatches('10.0.0.5', '[10.0.0.5]:2222')).toBe(false)
    expect(hostMatches('*.example.com,!evil.example.com', 'a.example.com')).toBe(true)
    expect(hostMatches('*.example.com,!evil.example.com', 'evil.example.com')).toBe(false)
    expect(hostMatches('10.0.0.?', '10.0.0.7')).toBe(true)
    expect(hostMatches('10.0.0.?', '10.0.0.17')).toBe(false)
  })

  it('parses markers and skips comments and blank lines', () => {
    const entries = parseKnownHosts('# comment\n\n@revoked * ssh-ed25519 AAAAkey\nhost ssh-rsa AAAArsa some comment\n')
    expect(entries).toEqual([
      { marker: '@revoked', patterns: '*', keyType: 'ssh-ed25519', key: 'AAAAkey' },
      { patterns: 'host', keyType: 'ssh-rsa', key: 'AAAArsa' },
    ])
  })
})

describe.skipIf(skip)('host key policy (OpenSSH on loopback)', () => {
  let sshd: Sshd
  let dir: string
  const host = { id: 'web-1', address: '127.0.0.2' }
  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-keys-'))
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('refuses a host whose key differs from known_hosts before any command runs', async () => {
    const impostor = await keygen(join(dir, 'impostor'))
    const marker = join(dir, 'must-not-exist')
    const executor = executorFor(sshd, { hostKeys: { knownHostsText: `[127.0.0.2]:${sshd.port} ${impostor.pub}` } })
    const error = await executor.run(host, `touch ${shellQuote(marker)}`, recorder().ctx).catch((e: unknown) => e)
    await executor.close()
    expect(error).toMatchObject({ reason: 'host-key', code: 'ADAPTER' })
    expect((error as Error).message).toContain(sshd.fingerprint)
    expect((error as Error).message).toMatch(/does NOT match/)
    expect(existsSync(marker)).toBe(false)
    // Refused in the handshake: the server never saw a login.
    expect(sshd.logins()).toBe(0)
  })

  it('refuses an unknown host and says how to add it', async () => {
    const executor = executorFor(sshd, { hostKeys: { knownHosts: join(dir, 'absent_known_hosts') } })
    const error = await executor.run(host, 'true', recorder().ctx).catch((e: unknown) => e)
    await executor.close()
    expect(error).toMatchObject({ reason: 'host-key' })
    expect((error as Error).message).toMatch(/is unknown.*absent_known_hosts \(missing\).*ssh-keyscan/)
  })

  it('accepts a known_hosts file hashed by ssh-keygen -H', async () => {
    const file = join(dir, 'known_hosts_hashed')
    await writeFile(file, `${sshd.knownHosts(['127.0.0.2'])}\n`)
    await run('ssh-keygen', ['-H', '-f', file])
    const text = await readFile(file, 'utf8')
    expect(text).toMatch(/^\|1\|[^|]+\|[^ ]+ ssh-ed25519 /)
    expect(text).not.toContain('127.0.0.2')
    const executor = executorFor(sshd, { hostKeys: { knownHosts: file } })
    const result = await executor.run(host, 'echo ok', recorder().ctx)
    await executor.close()
    expect(result.stdout).toBe('ok\n')
  })

  it('refuses a key listed as @revoked even when also listed as known', async () => {
    const known = sshd.knownHosts(['127.0.0.2'])
    const executor = executorFor(sshd, { hostKeys: { knownHostsText: `${known}\n@revoked ${known}` } })
    const error = await executor.run(host, 'true', recorder().ctx).catch((e: unknown) => e)
    await executor.close()
    expect((error as Error).message).toMatch(/@revoked/)
  })

  it('accepts a pinned SHA256 fingerprint, per host or for any host', async () => {
    for (const fingerprints of [[sshd.fingerprint], { [`[127.0.0.2]:${sshd.port}`]: sshd.fingerprint }]) {
      const executor = executorFor(sshd, { hostKeys: { fingerprints } })
      expect((await executor.run(host, 'echo pinned', recorder().ctx)).stdout).toBe('pinned\n')
      await executor.close()
    }
    const wrong = executorFor(sshd, { hostKeys: { fingerprints: [`SHA256:${'A'.repeat(43)}`] } })
    await expect(wrong.run(host, 'true', recorder().ctx)).rejects.toMatchObject({ reason: 'host-key' })
    await wrong.close()
  })

  it("warns through ctx.log.warn when host keys are not checked ('insecure-accept-any')", async () => {
    const executor = executorFor(sshd, { hostKeys: 'insecure-accept-any' })
    const { ctx, warnings } = recorder()
    expect((await executor.run(host, 'echo yolo', ctx)).stdout).toBe('yolo\n')
    await executor.run(host, 'true', ctx)
    await executor.close()
    // Once per connection, naming the host and what it presented.
    expect(warnings).toHaveLength(1)
    expect(warnings[0]).toContain('NOT verified')
    expect(warnings[0]).toContain(sshd.fingerprint)
  })

  it('rejects malformed host key options at setup', () => {
    expect(() => sshExecutor({ privateKey: sshd.clientKey, hostKeys: { fingerprints: ['MD5:aa:bb'] } })).toThrow(/hostKeys.fingerprints/)
    expect(() => sshExecutor({ privateKey: sshd.clientKey, hostKeys: 'accept' as never })).toThrow(/hostKeys/)
  })
})
