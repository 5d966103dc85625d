// The fleet recipe given builds whose sha256 is right but whose entries aim outside the
// release (real tarballs through the file store and the local executor): each is refused
// with the entry named, in prepare and in deploy, while the host keeps serving v1; and a
// rollout of one ends halted with the target untouched and still in service.
import { existsSync, readFileSync, readdirSync, readlinkSync, statSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Artifact, DeployArgs } from '@org/rolling-core'
import { hostileBuilds, type HostileBuilds, type TestBuild } from '@org/rolling-core/testing'
import { APP_FILE, startFleet, type Fleet } from '../src/index.js'
import { context, rolloutOn, status, stepArgs } from './support.js'

describe('fleet recipe refuses builds that reach outside the release', () => {
  let fleet: Fleet
  let hostile: HostileBuilds
  const published = new Map<string, Artifact>()

  beforeAll(async () => {
    fleet = await startFleet({ size: 1, lb: 'node' })
    const files = { 'app.mjs': readFileSync(APP_FILE, 'utf8'), 'release.json': '{"version":"hostile"}\n' }
    hostile = await hostileBuilds({ dir: join(fleet.dir, 'hostile'), files, marker: 'release.json' })
    for (const { name, reason } of hostile.skipped) console.warn(`[rolling:local-fleet] skipping the ${name} case: ${reason}`)
  })
  afterAll(async () => {
    await fleet?.stop()
  })

  const host = () => fleet.hosts[0] as Fleet['hosts'][number]
  const publish = async (build: TestBuild) => {
    const artifact = published.get(build.version) ?? (await fleet.artifacts.publish(fleet.service, build.file, { version: build.version }))
    published.set(build.version, artifact)
    return artifact
  }
  const argsFor = async (build: TestBuild): Promise<DeployArgs> => {
    const artifact = await publish(build)
    return { ...stepArgs(fleet, host().target, artifact), location: await fleet.artifacts.locate(artifact, host().target, context()) }
  }
  const failure = (promise: Promise<unknown> | undefined) =>
    (promise ?? Promise.reject(new Error('no such step'))).then(
      () => undefined,
      (e: unknown) => e as Error,
    )

  it('has every hostile case to run as root (CI)', () => {
    if (process.env.CI === 'true') expect(hostile.skipped).toEqual([])
    expect(hostile.builds.length).toBeGreaterThanOrEqual(10)
  })

  it('refuses each in prepare and in deploy, naming the entry; the host keeps serving v1', async () => {
    const pid = host().pid
    for (const bad of hostile.builds) {
      for (const step of ['prepare', 'deploy'] as const) {
        const error = await failure(fleet.recipe[step]?.(await argsFor(bad)))
        expect(error?.message, `${bad.name} (${step})`).toMatch(bad.refusal)
        expect(readlinkSync(join(host().dir, 'current')), bad.name).toBe('releases/v1')
        expect(existsSync(join(host().dir, 'releases', bad.version)), bad.name).toBe(false)
        expect(await hostile.outsideChanges(), bad.name).toEqual([])
      }
    }
    expect(readdirSync(join(host().dir, 'releases'))).toEqual(['v1'])
    expect(await status(host().target)).toMatchObject({ code: 200, version: 'v1', pid })
  })

  it('a rollout of such a build halts with the target untouched and still in service', async () => {
    const bad = hostile.builds.find((b) => b.version === 'bad-marker') as TestBuild & { refusal: RegExp }
    const artifact = await publish(bad)
    const result = await rolloutOn(fleet, { version: artifact.version })
    expect(result.status).toBe('halted')
    expect(result.targets).toEqual([expect.objectContaining({ outcome: 'skipped', failedIn: 'prepare', reason: expect.stringMatching(bad.refusal) })])
    expect((await fleet.lb.discover(context())).map((t) => t.id)).toEqual(['host-1'])
    expect(await status(host().target)).toMatchObject({ code: 200, version: 'v1' })
    expect(await hostile.outsideChanges()).toEqual([])
  })

  it('still installs links that stay inside; the host decides owner and mode, not the archive', async () => {
    for (const good of hostile.fine) {
      expect(await failure(fleet.recipe.prepare?.(await argsFor(good))), good.name).toBeUndefined()
      expect(existsSync(join(host().dir, 'releases', good.version, 'app.mjs')), good.name).toBe(true)
    }
    const links = join(host().dir, 'releases', 'ok-links')
    expect(readFileSync(join(links, 'alias'), 'utf8')).toBe('data\n')
    expect(readFileSync(join(links, 'lib', 'back'), 'utf8')).toBe('data\n')
    const owned = statSync(join(host().dir, 'releases', 'ok-owner', 'owned.txt'))
    expect(owned.uid).toBe(process.getuid?.())
    const umask = Number.parseInt((await fleet.executor.run(host().target, 'umask', context())).stdout.trim(), 8)
    expect(owned.mode & 0o7777).toBe(0o775 & ~umask)
  })
})
