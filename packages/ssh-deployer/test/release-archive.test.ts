// The release recipe given builds whose sha256 is right but whose entries aim outside the
// release (real tarballs, deployed over a real sshd as root): each is refused before
// `current` moves, with the entry named, nothing outside changed and no release left behind.
import { execFile } from 'node:child_process'
import { createHash } from 'node:crypto'
import { existsSync, lstatSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs'
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RollingError, type DeployArgs, type StepArgs, type Target } from '@org/rolling-core'
import { hostileBuilds, type HostileBuilds, type TestBuild } from '@org/rolling-core/testing'
import { RELEASE_MARKER, releaseRecipe, type SshExecutor } from '../src/index.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'
import { executorFor, recorder } from './support.js'

const run = promisify(execFile)
const skip = skipWithoutSshd()

describe.skipIf(skip)('releaseRecipe refuses builds that reach outside the release (OpenSSH on loopback)', () => {
  let sshd: Sshd
  let dir: string
  let root: string
  let executor: SshExecutor
  let hostile: HostileBuilds
  const target: Target = { id: 'web-1', address: '127.0.0.2', port: 8080 }

  const argsFor = (build: TestBuild): DeployArgs => {
    const { ctx } = recorder()
    const runCmd: StepArgs['run'] = (request) => executor.run(target, request, ctx)
    return {
      target,
      artifact: { service: 'app', version: build.version, builtAt: new Date().toISOString(), sha256: build.sha256, size: build.size },
      location: { kind: 'path', path: build.file, sha256: build.sha256, size: build.size },
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
  const recipe = () => releaseRecipe({ root, transfer: 'sftp', executor, shared: ['config/app.env'], restart: 'echo "$ROLLING_VERSION" >> restarts' })
  const deploy = (build: TestBuild) => recipe().deploy(argsFor(build))
  const current = () => readlinkSync(join(root, 'current'))
  const restarts = () => readFileSync(join(root, 'restarts'), 'utf8').trim().split('\n')
  /** A build of `app.txt` plus whatever `shape` adds, packed with the tar CLI. */
  const build = async (version: string, shape: (stage: string) => Promise<void> = async () => {}): Promise<TestBuild> => {
    const stage = await mkdtemp(join(dir, 'stage-'))
    await writeFile(join(stage, 'app.txt'), `app ${version}\n`)
    await shape(stage)
    const file = join(dir, `${version}.tgz`)
    await run('tar', ['-czf', file, '-C', stage, ...readdirSync(stage).sort()])
    const bytes = await readFile(file)
    return { name: version, version, file, sha256: createHash('sha256').update(bytes).digest('hex'), size: bytes.length }
  }

  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-archive-'))
    root = join(dir, 'srv', 'app')
    await mkdir(join(root, 'shared', 'config'), { recursive: true })
    await writeFile(join(root, 'shared', 'config', 'app.env'), 'from shared\n')
    executor = executorFor(sshd)
    hostile = await hostileBuilds({ dir: join(dir, 'builds'), files: { 'app.txt': 'app\n' }, marker: RELEASE_MARKER })
    for (const { name, reason } of hostile.skipped) console.warn(`[rolling:ssh] skipping the ${name} case: ${reason}`)
    await deploy(await build('v1'))
  })
  afterAll(async () => {
    await executor?.close()
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('has every hostile case to run as root (CI)', () => {
    if (process.env.CI === 'true') expect(hostile.skipped).toEqual([])
    expect(hostile.builds.length).toBeGreaterThanOrEqual(hostile.skipped.length ? 10 : 11)
  })

  it('refuses each, naming the entry, before `current` moves; the old release keeps serving', async () => {
    for (const bad of hostile.builds) {
      const error = await deploy(bad).then(
        () => undefined,
        (e: unknown) => e as RollingError,
      )
      expect(error, bad.name).toBeInstanceOf(RollingError)
      expect(error?.message, bad.name).toMatch(bad.refusal)
      expect(current(), bad.name).toBe('releases/v1')
      expect(existsSync(join(root, 'releases', bad.version)), bad.name).toBe(false)
      expect(await hostile.outsideChanges(), bad.name).toEqual([])
    }
    expect(restarts()).toEqual(['v1'])
    expect(readFileSync(join(root, 'current', 'app.txt'), 'utf8')).toBe('app v1\n')
    // No half-unpacked folder and no transferred file left behind.
    expect(readdirSync(join(root, 'releases'))).toEqual(['v1'])
    expect(readdirSync('/tmp').filter((f) => f.startsWith('rolling-bad-'))).toEqual([])
    expect(readFileSync(join(root, 'shared', 'config', 'app.env'), 'utf8')).toBe('from shared\n')
  })

  it('refuses a shared path whose parent in the build is a link, even one that stays inside', async () => {
    const b = await build('bad-parent', async (stage) => {
      await mkdir(join(stage, 'etc'))
      await writeFile(join(stage, 'etc', 'app.env'), 'from the build\n')
      await symlink('etc', join(stage, 'config'))
    })
    await expect(deploy(b)).rejects.toThrow(
      'release bad-parent: shared path config/app.env: config in the build is not a folder (a symlink or a file); nothing was switched',
    )
    expect(current()).toBe('releases/v1')
    expect(readdirSync(join(root, 'releases'))).toEqual(['v1'])
  })

  it('writes the marker and the shared link over what the build has there, never through it', async () => {
    const b = await build('ok-marker', async (stage) => {
      await symlink('app.txt', join(stage, RELEASE_MARKER))
      await mkdir(join(stage, 'config'))
      await symlink('../app.txt', join(stage, 'config', 'app.env'))
    })
    await deploy(b)
    const release = join(root, 'releases', 'ok-marker')
    expect(current()).toBe('releases/ok-marker')
    expect(readFileSync(join(release, 'app.txt'), 'utf8')).toBe('app ok-marker\n')
    expect(lstatSync(join(release, RELEASE_MARKER)).isFile()).toBe(true)
    expect(JSON.parse(readFileSync(join(release, RELEASE_MARKER), 'utf8'))).toMatchObject({ version: 'ok-marker', sha256: b.sha256 })
    expect(readlinkSync(join(release, 'config', 'app.env'))).toBe(join(root, 'shared', 'config', 'app.env'))
    expect(readdirSync(release).filter((f) => f.startsWith('.rolling-marker'))).toEqual([])
  })

  it('still deploys links that stay inside, and the host decides owner and mode, not the archive', async () => {
    const { stdout } = await executor.run(target, 'umask', recorder().ctx)
    const umask = Number.parseInt(stdout.trim(), 8)
    for (const good of hostile.fine) {
      await deploy(good)
      expect(current(), good.name).toBe(`releases/${good.version}`)
    }
    const links = join(root, 'releases', 'ok-links')
    expect(readFileSync(join(links, 'alias'), 'utf8')).toBe('data\n')
    expect(readFileSync(join(links, 'lib', 'back'), 'utf8')).toBe('data\n')
    const owned = statSync(join(root, 'releases', 'ok-owner', 'owned.txt'))
    // sshd logs in as root here: without --no-same-owner the file would belong to 4321.
    expect(owned.uid).toBe(0)
    expect(owned.gid).toBe(0)
    expect(owned.mode & 0o7777).toBe(0o775 & ~umask)
  })
})
