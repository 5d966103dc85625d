// The shared contract suite for ArtifactStore adapters. It publishes two builds of
// its own (unique versions, so a shared real bucket is fine) and checks that what
// comes back matches the bytes it put in.
import { createHash, randomBytes } from 'node:crypto'
import { beforeAll, expect } from 'vitest'
import type { AdapterContext, Artifact, ArtifactStore } from '../../types.js'
import { contractContext, contractSuite, randomSuffix, rejection, type ContractOptions } from './suite.js'

export interface ArtifactStoreFixture {
  store: ArtifactStore
  /** The service the suite publishes to. */
  service: string
  /** Publishes a build the way this store's users do; it must become `latest`. */
  publish(version: string, bytes: Uint8Array, builtAt?: string): Promise<Artifact>
  /** Damages the stored bytes of `artifact`; the integrity test is skipped without it. */
  corrupt?(artifact: Artifact): Promise<void>
  ctx?: Partial<AdapterContext>
  teardown?(): Promise<void>
}

export const artifactStoreTests = {
  latest: 'resolve latest returns the newest build',
  version: 'resolve a version returns that build with matching sha256 and size',
  unknownVersion: 'resolve an unknown version rejects with ARTIFACT_NOT_FOUND',
  unknownService: 'resolve an unknown service rejects with ARTIFACT_NOT_FOUND',
  locate: 'locate returns where to fetch the build, with its sha256 and size',
  verify: 'verify passes on an intact build',
  integrity: 'verify rejects a corrupted build with ARTIFACT_INTEGRITY',
} as const

export type ArtifactStoreTestName = (typeof artifactStoreTests)[keyof typeof artifactStoreTests]

interface Build {
  version: string
  bytes: Uint8Array
  sha256: string
  artifact: Artifact
}

export function testArtifactStore(options: ContractOptions<ArtifactStoreFixture, ArtifactStoreTestName>): void {
  const t = artifactStoreTests
  contractSuite('ArtifactStore', t, options, (test, get) => {
    const ctx = () => contractContext(get().ctx)
    const run = randomSuffix()
    let older: Build
    let newer: Build

    beforeAll(async () => {
      const publish = async (version: string, size: number, builtAt: string): Promise<Build> => {
        const bytes = new Uint8Array(randomBytes(size))
        const artifact = await get().publish(version, bytes, builtAt)
        return { version, bytes, sha256: createHash('sha256').update(bytes).digest('hex'), artifact }
      }
      // The older build is published first and built earlier, so "newest" is unambiguous.
      older = await publish(`1.0.0-contract.${run}`, 2048, new Date(Date.now() - 3_600_000).toISOString())
      newer = await publish(`1.1.0-contract.${run}`, 4096, new Date().toISOString())
    })

    test(t.latest, async () => {
      const artifact = await get().store.resolve(get().service, 'latest', ctx())
      expect(artifact.version).toBe(newer.version)
      expect(artifact.sha256).toBe(newer.sha256)
    })

    test(t.version, async () => {
      for (const build of [older, newer]) {
        const artifact = await get().store.resolve(get().service, build.version, ctx())
        expect(artifact).toMatchObject({ service: get().service, version: build.version, sha256: build.sha256, size: build.bytes.byteLength })
        expect(Number.isNaN(Date.parse(artifact.builtAt)), `builtAt ${artifact.builtAt} is not a date`).toBe(false)
      }
    })

    test(t.unknownVersion, async () => {
      const version = `0.0.0-missing.${randomSuffix()}`
      const error = await rejection(get().store.resolve(get().service, version, ctx()))
      expect(error).toMatchObject({ code: 'ARTIFACT_NOT_FOUND' })
      expect((error as Error).message).toContain(get().service)
      expect((error as Error).message).toContain(version)
    })

    test(t.unknownService, async () => {
      const service = `missing-service-${randomSuffix()}`
      for (const ref of ['latest', older.version]) {
        const error = await rejection(get().store.resolve(service, ref, ctx()))
        expect(error).toMatchObject({ code: 'ARTIFACT_NOT_FOUND' })
        expect((error as Error).message).toContain(service)
        if (ref !== 'latest') expect((error as Error).message).toContain(ref)
      }
    })

    test(t.locate, async () => {
      const target = { id: 'contract-target', address: '127.0.0.1' }
      const location = await get().store.locate(newer.artifact, target, ctx())
      expect(location).toMatchObject({ sha256: newer.sha256, size: newer.bytes.byteLength })
      if (location.kind === 'url') expect(() => new URL(location.url)).not.toThrow()
      else expect(location.path).not.toBe('')
    })

    test(t.verify, async ({ skip }) => {
      const { store } = get()
      if (!store.verify) return skip('the store has no verify()')
      await store.verify(newer.artifact, ctx())
    })

    // Last, and on the older build: the other tests read the newer one.
    test(t.integrity, async ({ skip }) => {
      const { store, corrupt } = get()
      if (!store.verify || !corrupt) return skip('the store has no verify() or the fixture no corrupt()')
      await corrupt(older.artifact)
      const error = await rejection(store.verify(older.artifact, ctx()))
      expect(error).toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
      expect((error as Error).message).toContain(older.version)
    })
  })
}
