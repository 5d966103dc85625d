// releaseRecipe.prepare over a real sshd: what it does while the host is in service, and
// what the deploy (out of service, one command) then relies on. A host prepared but never
// deployed keeps serving untouched and its release is pruned by the next rollout; a deploy
// in another process (resume) reuses the prepared release; a prepared release whose bytes
// changed is refused before `current` moves. And the same recipe on the core's local executor.
import { createHash } from 'node:crypto'
import { execFile } from 'node:child_process'
import { existsSync, readFileSync, readdirSync, readlinkSync } from 'node:fs'
import { appendFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { performance } from 'node:perf_hooks'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  RollingError,
  fileArtifacts,
  localExecutor,
  rollout,
  type Artifact,
  type DeployArgs,
  type Executor,
  type HealthCheck,
  type StepArgs,
  type Target,
} from '@org/rolling-core'
import { memoryLoadBalancer } from '@org/rolling-core/testing'
import { releaseRecipe, type SshExecutor } from '../src/index.js'
import { skipWithoutSshd, startSshd, type Sshd } from './sshd.js'
import { executorFor, recorder } from './support.js'

const run = promisify(execFile)
const skip = skipWithoutSshd()
const restart = 'echo "$ROLLING_VERSION" >> restarts'

interface Build {
  artifact: Artifact
  file: string
}

async function build(dir: string, version: string): Promise<Build> {
  const stage = await mkdtemp(join(dir, 'stage-'))
  await writeFile(join(stage, 'app.txt'), `app ${version}\n`)
  const file = join(dir, `app-${version}.tgz`)
  await run('tar', ['-czf', file, '-C', stage, 'app.txt'])
  const bytes = await readFile(file)
  const sha256 = createHash('sha256').update(bytes).digest('hex')
  return { file, artifact: { service: 'app', version, builtAt: new Date().toISOString(), sha256, size: bytes.length } }
}

/** Step arguments as the engine makes them, over `executor`; counts the commands run. */
function argsFor(executor: Executor, target: Target, b: Build, commands: string[] = []): DeployArgs {
  const { ctx } = recorder()
  const runCmd: StepArgs['run'] = (request) => {
    commands.push(typeof request === 'string' ? request : request.command)
    return executor.run(target, request, ctx)
  }
  return {
    target,
    artifact: b.artifact,
    location: { kind: 'path', path: b.file, sha256: b.artifact.sha256, size: b.artifact.size },
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
    executor,
  }
}

describe.skipIf(skip)('releaseRecipe.prepare (OpenSSH on loopback)', () => {
  let sshd: Sshd
  let dir: string
  const hosts: Target[] = [
    { id: 'host-1', address: '127.0.0.2', port: 8080 },
    { id: 'host-2', address: '127.0.0.3', port: 8080 },
  ]
  const rootOf = (t: Target) => join(dir, 'hosts', t.id)
  const current = (t: Target) => readlinkSync(join(rootOf(t), 'current'))
  const restarts = (t: Target) =>
    readFileSync(join(rootOf(t), 'restarts'), 'utf8')
      .trim()
      .split('\n')
  const releases = (t: Target) => readdirSync(join(rootOf(t), 'releases')).sort()
  const recipe = (executor: SshExecutor) => releaseRecipe({ root: rootOf, transfer: 'sftp', executor, restart, keep: 5 })

  beforeAll(async () => {
    sshd = await startSshd()
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-prepare-'))
    const executor = executorFor(sshd)
    const v1 = await build(dir, 'v1')
    for (const t of hosts) {
      await mkdir(rootOf(t), { recursive: true })
      await recipe(executor).prepare?.(argsFor(executor, t, v1))
      await recipe(executor).deploy(argsFor(executor, t, v1))
    }
    await executor.close()
  })
  afterAll(async () => {
    await sshd?.stop()
    await rm(dir, { recursive: true, force: true })
  })

  it('a host prepared but never deployed keeps serving untouched; the next rollout prunes its unused release', async () => {
    const artifacts = fileArtifacts({ root: join(dir, 'artifacts') })
    const loadBalancer = memoryLoadBalancer({ targets: hosts })
    const detachedAt = new Map<string, number>()
    loadBalancer.onDetach = (targets) => {
      for (const t of targets) detachedAt.set(t.id, performance.now())
    }
    // The health check reads what each host runs from its own `current` (written over SSH).
    // host-1's v2 is broken: it fails settle, the rollout halts, host-2 was prepared meanwhile.
    const healthCheck: HealthCheck = {
      name: 'current',
      async check(target) {
        const { version } = JSON.parse(await readFile(join(rootOf(target), 'current', '.rolling-release.json'), 'utf8')) as { version: string }
        return target.id === 'host-1' && version === 'v2' ? { ok: false, status: 500, version, detail: 'status 500' } : { ok: true, status: 200, version }
      },
    }
    const connectedAt = new Map<string, number>()
    // A rollout closes its executor when it ends: each gets its own, as each CLI run would.
    let ssh = executorFor(sshd)
    const roll = async (version: string) => {
      const b = await build(dir, version)
      await artifacts.publish('app', b.file, { version, builtAt: b.artifact.builtAt })
      ssh = executorFor(sshd)
      const inner = ssh
      const executor: SshExecutor = {
        ...inner,
        async connect(target, ctx) {
          await inner.connect(target, ctx)
          if (!connectedAt.has(target.id)) connectedAt.set(target.id, performance.now())
        },
      }
      return rollout({
        service: 'app',
        loadBalancer,
        artifacts,
        executor,
        healthCheck,
        deploy: recipe(inner),
        version,
        settle: { interval: 10, successes: 2, deadline: 300 },
        stateDir: join(dir, `state-${version}`),
      })
    }
    const [host1, host2] = hosts as [Target, Target]
    try {
      const halted = await roll('v2')
      expect(halted.status).toBe('halted')
      const report = (t: Target) => halted.targets.find((r) => r.target.id === t.id)
      expect(report(host1)?.outcome).toBe('failed')
      expect(report(host2)?.outcome).toBe('pending')
      expect(report(host2)?.timings.prepare).toBeGreaterThan(0)
      // Prepared: the release is there, whole; nothing the service sees has changed.
      expect(releases(host2)).toEqual(['v1', 'v2'])
      expect(readFileSync(join(rootOf(host2), 'releases', 'v2', 'app.txt'), 'utf8')).toBe('app v2\n')
      expect(current(host2)).toBe('releases/v1')
      expect(existsSync(join(rootOf(host2), 'previous'))).toBe(false)
      expect(restarts(host2)).toEqual(['v1'])
      expect(loadBalancer.calls.some((c) => c.op !== 'discover' && c.ids.includes('host-2'))).toBe(false)
      expect(loadBalancer.inService('host-2')).toBe(true)
      // Connected ahead: host-1's SSH connection was open before its drain began, and one served it.
      expect(connectedAt.get('host-1')).toBeLessThan(detachedAt.get('host-1') as number)
      expect(ssh.stats().find((s) => s.target === 'host-1')?.connections).toBe(1)

      // The next rollout (v3) removes the release host-2 never switched to.
      const next = await roll('v3')
      expect(
        next.targets.find((r) => r.target.id === 'host-2'),
        JSON.stringify(next.targets.map((r) => [r.target.id, r.outcome, r.reason])),
      ).toMatchObject({ outcome: 'done' })
      expect(current(host2)).toBe('releases/v3')
      expect(releases(host2)).toEqual(['v1', 'v3'])
      expect(restarts(host2)).toEqual(['v1', 'v3'])
    } finally {
      await ssh.close()
    }
  })

  it('a deploy in another process (resume) reuses the prepared release: no upload, one command', async () => {
    const [host1] = hosts as [Target]
    const b = await build(dir, 'v4')
    const first = executorFor(sshd)
    await recipe(first).prepare?.(argsFor(first, host1, b))
    expect(first.stats()[0]?.uploads).toBe(1)
    await first.close()
    // A fresh executor and recipe, as `resume` in a new process has.
    const second = executorFor(sshd)
    const commands: string[] = []
    try {
      await recipe(second).deploy(argsFor(second, host1, b, commands))
      expect(second.stats()[0]?.uploads ?? 0).toBe(0)
      expect(commands).toHaveLength(1)
      expect(current(host1)).toBe('releases/v4')
      expect(restarts(host1).at(-1)).toBe('v4')
      // Switched to: no longer marked prepared-only, so the next prune keeps it as history.
      expect(existsSync(join(rootOf(host1), 'releases', 'v4', '.rolling-prepared'))).toBe(false)
    } finally {
      await second.close()
    }
  })

  it('refuses a prepared release whose bytes changed after the prepare, before the switch', async () => {
    const [host1] = hosts as [Target]
    const b = await build(dir, 'v5')
    const executor = executorFor(sshd)
    try {
      await recipe(executor).prepare?.(argsFor(executor, host1, b))
      const before = restarts(host1)
      await appendFile(join(rootOf(host1), 'releases', 'v5', 'app.txt'), 'tampered\n')
      const error = await recipe(executor)
        .deploy(argsFor(executor, host1, b))
        .catch((e: unknown) => e)
      expect(error).toBeInstanceOf(RollingError)
      expect((error as Error).message).toMatch(/release v5 changed since it was prepared .*nothing was switched/)
      expect(current(host1)).toBe('releases/v4')
      expect(restarts(host1)).toEqual(before)
      // A new prepare sees the change and installs the build again; then the deploy goes on.
      await recipe(executor).prepare?.(argsFor(executor, host1, b))
      await recipe(executor).deploy(argsFor(executor, host1, b))
      expect(readFileSync(join(rootOf(host1), 'current', 'app.txt'), 'utf8')).toBe('app v5\n')
    } finally {
      await executor.close()
    }
  })
})

describe("releaseRecipe on the core's local executor (transfer 'copy')", () => {
  it('prepares from the file store path without a copy, then switches and restarts in one command', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'rolling-release-local-'))
    try {
      const root = join(dir, 'host')
      await mkdir(root)
      const target: Target = { id: 'local-1', address: '127.0.0.1' }
      const executor = localExecutor()
      const r = releaseRecipe({ root, transfer: 'copy', restart })
      for (const version of ['v1', 'v2']) {
        const b = await build(dir, version)
        await r.prepare?.(argsFor(executor, target, b))
        // Prepared, not switched: `current` is still the build before (none before v1).
        expect(existsSync(join(root, 'current')) ? readlinkSync(join(root, 'current')) : 'none').toBe(version === 'v1' ? 'none' : 'releases/v1')
        expect(existsSync(join(root, 'releases', version, 'app.txt'))).toBe(true)
        const commands: string[] = []
        await r.deploy(argsFor(executor, target, b, commands))
        expect(commands).toHaveLength(1)
        expect(readlinkSync(join(root, 'current'))).toBe(`releases/${version}`)
        // The build file is the store's own: read in place, never removed.
        expect(existsSync(b.file)).toBe(true)
      }
      expect(readFileSync(join(root, 'restarts'), 'utf8')).toBe('v1\nv2\n')
      expect(readlinkSync(join(root, 'previous'))).toBe('releases/v1')
      expect(await r.version?.(argsFor(executor, target, await build(dir, 'v2')))).toMatchObject({ version: 'v2' })
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
