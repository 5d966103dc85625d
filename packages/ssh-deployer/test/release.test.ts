// The release recipe on a real host folder over a real sshd: upload, sha256 check, unpack,
// shared links, the atomic `current` switch, restart, keep N, rollback, version, stop,
// fetch by URL (with a presigned-looking URL kept out of logs), and hostile values.
import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RollingError, type Artifact, type ArtifactLocation, type DeployArgs, type StepArgs, type Target } from '@org/rolling-core'
import { releaseRecipe, type ReleaseRecipeOptions, type SshExecutor } from '../src/index.js'
import { executorFor, recorder } from './support.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'

const run = promisify(execFile)
const skip = skipWithoutSshd()

interface Build {
  artifact: Artifact
  file: string
}

async function build(dir: string, version: string): Promise<Build> {
  const stage = await mkdtemp(join(dir, 'stage-'))
  await writeFile(join(stage, 'app.txt'), `app ${version}\n`)
  await mkdir(join(stage, 'config'))
  await writeFile(join(stage, 'config', 'app.env'), 'from the build\n')
  const file = join(dir, `app-${version.replace(/[^A-Za-z0-9.]/g, '_')}-${Math.random().toString(36).slice(2)}.tgz`)
  await run('tar', ['-czf', file, '-C', stage, 'app.txt', 'config'])
  const bytes = await readFile(file)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  return { file, artifact: { service: 'app', version, builtAt: new Date().toISOString(), sha256, size: bytes.length } }
}

describe.skipIf(skip)('releaseRecipe (OpenSSH on loopback)', () => {
  let sshd: Sshd
  let dir: string
  let root: string
  let executor: SshExecutor
  const target: Target = { id: 'web-1', address: '127.0.0.2', port: 8080 }

  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-release-'))
    root = join(dir, 'srv', 'app')
    await mkdir(join(root, 'shared', 'config'), { recursive: true })
    await writeFile(join(root, 'shared', 'config', 'app.env'), 'from shared\n')
    executor = executorFor(sshd)
  })
  afterAll(async () => {
    await executor?.close()
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  const args = (b: Build, location?: ArtifactLocation): DeployArgs => {
    const { ctx } = recorder()
    const runCmd: StepArgs['run'] = (request) => executor.run(target, request, ctx)
    return {
      target,
      artifact: b.artifact,
      location: location ?? { kind: 'path', path: b.file, sha256: b.artifact.sha256, size: b.artifact.size },
      run: runCmd,
      async exec(request) {
        const result = await runCmd(request)
        if (result.exitCode !== 0) throw new RollingError('EXEC_FAILED', `exit ${result.exitCode}: ${result.stderr.trim()}`)
        return result
      },
      signal: ctx.signal,
      clock: ctx.clock,
      log: ctx.log,
      ctx,
    }
  }
  const recipe = (extra: Partial<ReleaseRecipeOptions> = {}) =>
    releaseRecipe({
      root,
      transfer: 'sftp',
      executor,
      keep: 3,
      shared: ['config/app.env'],
      restart: 'echo "$ROLLING_VERSION" >> restarts',
      stop: 'echo stopped > stopped',
      ...extra,
    })
  const current = () => readlinkSync(join(root, 'current'))
  const restarts = () => readFileSync(join(root, 'restarts'), 'utf8').trim().split('\n')

  it('installs, switches `current` atomically, links shared files, restarts and keeps N releases', async () => {
    const r = recipe()
    const versions = ['1.0.0', '1.1.0', '1.2.0', '1.3.0', '1.4.0']
    for (const version of versions) {
      await r.deploy(args(await build(dir, version)))
      expect(current()).toBe(`releases/${version}`)
      expect(readFileSync(join(root, 'current', 'app.txt'), 'utf8')).toBe(`app ${version}\n`)
      // Ordered by mtime: keep a visible gap so "newest" is unambiguous.
      await new Promise((resolve) => setTimeout(resolve, 20))
    }
    expect(readdirSync(join(root, 'releases')).sort()).toEqual(['1.2.0', '1.3.0', '1.4.0'])
    expect(readlinkSync(join(root, 'previous'))).toBe('releases/1.3.0')
    expect(readlinkSync(join(root, 'releases', '1.4.0', 'config', 'app.env'))).toBe(join(root, 'shared', 'config', 'app.env'))
    expect(readFileSync(join(root, 'current', 'config', 'app.env'), 'utf8')).toBe('from shared\n')
    expect(JSON.parse(readFileSync(join(root, 'current', '.rolling-release.json'), 'utf8'))).toMatchObject({ version: '1.4.0', service: 'app' })
    expect(restarts()).toEqual(versions)
    // Nothing left behind by the transfer or the unpack.
    expect(readdirSync(join(root, 'releases')).filter((d) => d.startsWith('.'))).toEqual([])
    expect(readdirSync('/tmp').filter((f) => f.startsWith('rolling-1.'))).toEqual([])
    expect(await r.version?.(args(await build(dir, '1.4.0')))).toMatchObject({ version: '1.4.0' })
  })

  it('re-running a deploy (resume) does not upload again or move `previous`', async () => {
    const b = await build(dir, '2.0.0')
    const uploads = () => executor.stats().find((s) => s.target === 'web-1')?.uploads ?? 0
    await recipe().deploy(args(b))
    const before = uploads()
    await recipe().deploy(args(b))
    expect(uploads()).toBe(before)
    expect(current()).toBe('releases/2.0.0')
    expect(readlinkSync(join(root, 'previous'))).toBe('releases/1.4.0')
  })

  it('rolls back to the previous release, once', async () => {
    const b = await build(dir, '2.0.0')
    await recipe().rollback(args(b))
    expect(current()).toBe('releases/1.4.0')
    expect(restarts().at(-1)).toBe('2.0.0')
    // A second run (resume) does not switch again.
    await recipe().rollback(args(b))
    expect(current()).toBe('releases/1.4.0')
  })

  it('refuses an artifact whose sha256 does not match, before switching anything', async () => {
    const b = await build(dir, '3.0.0')
    const bad = { kind: 'path' as const, path: b.file, sha256: 'f'.repeat(64), size: b.artifact.size }
    const error = await recipe()
      .deploy(args(b, bad))
      .catch((e: unknown) => e)
    expect((error as Error).message).toMatch(/sha256 mismatch for 3\.0\.0.*nothing was switched/)
    expect(current()).toBe('releases/1.4.0')
    expect(existsSync(join(root, 'releases', '3.0.0'))).toBe(false)
    expect(readdirSync('/tmp').filter((f) => f.startsWith('rolling-3.0.0'))).toEqual([])
  })

  it('runs the stop command in the root folder', async () => {
    const r = recipe()
    await r.stop?.(args(await build(dir, '1.4.0')))
    expect(readFileSync(join(root, 'stopped'), 'utf8')).toBe('stopped\n')
  })

  it('refuses hostile version names and shared paths before running anything', async () => {
    const pwned = join(dir, 'pwned')
    const hostile = [
      `1.0; touch ${pwned}`,
      `$(touch ${pwned})`,
      `\`touch ${pwned}\``,
      `1.0'; touch '${pwned}`,
      `1.0"`,
      '1.0\ntouch x',
      '../../etc',
      '.hidden',
      '',
    ]
    for (const version of hostile) {
      const b = await build(dir, '4.0.0')
      b.artifact = { ...b.artifact, version }
      await expect(recipe().deploy(args(b)), JSON.stringify(version)).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    }
    for (const shared of [['../escape'], ['/etc/passwd'], [`a; touch ${pwned}`], ['$(id)']]) {
      expect(() => recipe({ shared })).toThrow(/shared/)
    }
    expect(existsSync(pwned)).toBe(false)
    expect(current()).toBe('releases/1.4.0')
  })

  it('quotes a root folder full of shell syntax instead of running it', async () => {
    const pwned = join(dir, 'pwned-root')
    const weird = join(dir, `it's $(touch ${pwned}) \`touch ${pwned}\` & "x"; y`)
    await mkdir(weird, { recursive: true })
    await recipe({ root: weird, shared: [] }).deploy(args(await build(dir, '5.0.0')))
    expect(readlinkSync(join(weird, 'current'))).toBe('releases/5.0.0')
    expect(readFileSync(join(weird, 'current', 'app.txt'), 'utf8')).toBe('app 5.0.0\n')
    expect(existsSync(pwned)).toBe(false)
  })

  describe("transfer: 'fetch' (the host downloads a URL)", () => {
    let server: Server
    let base: string
    const files = new Map<string, string>()
    beforeAll(async () => {
      server = createServer((req, res) => {
        const url = new URL(req.url ?? '/', 'http://x')
        const file = files.get(url.pathname)
        // Like a presigned URL: without the signature, no object.
        if (!file || url.searchParams.get('X-Amz-Signature') !== 'sig') return void res.writeHead(403).end('denied')
        res.writeHead(200, { 'content-type': 'application/gzip' }).end(readFileSync(file))
      })
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
      base = `http://127.0.0.1:${(server.address() as { port: number }).port}`
    })
    afterAll(async () => {
      await new Promise((resolve) => server?.close(resolve))
    })

    it('downloads with curl on the host, checks it, and keeps the URL out of output and errors', async () => {
      const b = await build(dir, '6.0.0')
      files.set('/app/6.0.0.tgz', b.file)
      const url = `${base}/app/6.0.0.tgz?X-Amz-Credential=AKIA%2Fx&X-Amz-Signature=sig&X-Amz-Expires=60`
      const r = recipe({ transfer: 'fetch', executor: undefined, shared: [] })
      await r.deploy(args(b, { kind: 'url', url, sha256: b.artifact.sha256, size: b.artifact.size }))
      expect(current()).toBe('releases/6.0.0')

      const denied = `${base}/app/6.0.0.tgz?X-Amz-Signature=wrong&secret=1`
      const error = await r.deploy(args(b, { kind: 'url', url: denied, sha256: b.artifact.sha256, size: b.artifact.size })).catch((e: unknown) => e)
      // Already installed from the first fetch: the probe skips the transfer entirely.
      expect(error).toBeUndefined()
      const c = await build(dir, '6.0.1')
      const failed = await r.deploy(args(c, { kind: 'url', url: denied, sha256: c.artifact.sha256, size: c.artifact.size })).catch((e: unknown) => e)
      expect(failed).toBeInstanceOf(Error)
      expect((failed as Error).message).not.toContain('X-Amz-Signature=wrong')
      expect(current()).toBe('releases/6.0.0')
    })

    it('refuses a location the chosen transfer cannot use', async () => {
      const b = await build(dir, '7.0.0')
      await expect(recipe({ transfer: 'fetch', executor: undefined }).deploy(args(b))).rejects.toThrow(/needs a URL/)
      await expect(recipe().deploy(args(b, { kind: 'url', url: `${base}/x`, sha256: b.artifact.sha256, size: 1 }))).rejects.toThrow(/needs a local path/)
      expect(() => releaseRecipe({ root, transfer: 'sftp', restart: 'true' })).toThrow(/executor/)
    })
  })
})
