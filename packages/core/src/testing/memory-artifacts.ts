// An in-memory artifact store: builds published by tests, hashed like a real store,
// and corruptible on demand so the "refuse a bad artifact before touching a host"
// property can be tested.
import { createHash } from 'node:crypto'
import type { AdapterContext, Artifact, ArtifactLocation, ArtifactStore, Clock, Target } from '../types.js'
import { RollingError, throwIfAborted } from '../errors.js'
import { systemClock } from '../clock.js'

export interface MemoryArtifactsOptions {
  /** Clock for default build times. @default systemClock */
  clock?: Clock
  /** @default 'memory' */
  name?: string
}

export interface PublishOptions {
  /** ISO-8601 build time. @default the clock's now */
  builtAt?: string
  metadata?: Record<string, string>
}

export interface MemoryArtifactStore extends ArtifactStore {
  verify(artifact: Artifact, ctx: AdapterContext): Promise<void>
  /** Stores a build; it becomes the service's `latest`. Publishing a version again replaces it. */
  publish(service: string, version: string, bytes: Uint8Array | string, options?: PublishOptions): Artifact
  /** Flips the stored bytes of a build so that `verify` fails. */
  corrupt(service: string, version: string): void
  /** The stored bytes (a copy), e.g. to check what a host would download. */
  read(service: string, version: string): Uint8Array
}

interface Stored {
  artifact: Artifact
  bytes: Uint8Array
}

export function memoryArtifacts(options: MemoryArtifactsOptions = {}): MemoryArtifactStore {
  const name = options.name ?? 'memory'
  const clock = options.clock ?? systemClock
  const services = new Map<string, Map<string, Stored>>()
  const latest = new Map<string, string>()

  const find = (service: string, version: string): Stored => {
    const stored = services.get(service)?.get(version)
    if (!stored) {
      throw new RollingError(
        'ARTIFACT_NOT_FOUND',
        services.has(service)
          ? `[rolling:${name}] no build ${version} of service ${service}`
          : `[rolling:${name}] no builds of service ${service} (asked for ${version})`,
      )
    }
    return stored
  }

  return {
    name,

    publish(service, version, bytes, publishOptions = {}) {
      const data = typeof bytes === 'string' ? new TextEncoder().encode(bytes) : Uint8Array.from(bytes)
      const artifact: Artifact = {
        service,
        version,
        builtAt: publishOptions.builtAt ?? new Date(clock.now()).toISOString(),
        sha256: sha256(data),
        size: data.byteLength,
        ...(publishOptions.metadata ? { metadata: { ...publishOptions.metadata } } : {}),
      }
      let versions = services.get(service)
      if (!versions) {
        versions = new Map()
        services.set(service, versions)
      }
      versions.set(version, { artifact, bytes: data })
      latest.set(service, version)
      return clone(artifact)
    },

    corrupt(service, version) {
      const stored = find(service, version)
      // An empty build gets a byte instead: there is nothing to flip.
      stored.bytes = stored.bytes.byteLength === 0 ? Uint8Array.of(0) : stored.bytes.map((b, i) => (i === 0 ? b ^ 0xff : b))
    },

    read: (service, version) => Uint8Array.from(find(service, version).bytes),

    async resolve(service, ref, ctx) {
      throwIfAborted(ctx.signal)
      const version = ref === 'latest' ? latest.get(service) : ref
      return clone(find(service, version ?? ref).artifact)
    },

    async locate(artifact: Artifact, _target: Target, ctx): Promise<ArtifactLocation> {
      throwIfAborted(ctx.signal)
      const { sha256: hash, size } = find(artifact.service, artifact.version).artifact
      const url = `memory://${encodeURIComponent(artifact.service)}/${encodeURIComponent(artifact.version)}`
      return { kind: 'url', url, sha256: hash, size }
    },

    async verify(artifact, ctx) {
      throwIfAborted(ctx.signal)
      const { bytes } = find(artifact.service, artifact.version)
      const actual = sha256(bytes)
      if (actual !== artifact.sha256 || bytes.byteLength !== artifact.size) {
        throw new RollingError(
          'ARTIFACT_INTEGRITY',
          `[rolling:${name}] build ${artifact.version} of service ${artifact.service} is corrupt: ` +
            `expected sha256 ${artifact.sha256} (${artifact.size} bytes), got ${actual} (${bytes.byteLength} bytes)`,
        )
      }
    },
  }
}

function sha256(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex')
}

function clone(artifact: Artifact): Artifact {
  return { ...artifact, ...(artifact.metadata ? { metadata: { ...artifact.metadata } } : {}) }
}
