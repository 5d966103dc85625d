// The filesystem artifact store: `<root>/<service>/<version>/{<file>,manifest.json}` and
// `<root>/<service>/LATEST`. A build appears in one rename, so readers never see half of it;
// the local fleet and tests use it, and any host sharing the folder can fetch from it.
import { createHash, randomBytes } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises'
import { basename, join, resolve as resolvePath } from 'node:path'
import type { AdapterContext, Artifact, ArtifactLocation, ArtifactStore } from '../types.js'
import { RollingError, ValidationError, abortReason, errorMessage } from '../errors.js'

export interface FileArtifactsOptions {
  /** Folder holding one sub-folder per service. Created on first publish. */
  root: string
}

export interface FilePublishOptions {
  version: string
  /** ISO-8601 build time. @default now */
  builtAt?: string
  metadata?: Record<string, string>
  /** Name of the stored file. @default the source file's name */
  file?: string
  signal?: AbortSignal
}

export interface FileArtifactStore extends ArtifactStore {
  /** The absolute root folder. */
  readonly root: string
  verify(artifact: Artifact, ctx: AdapterContext): Promise<void>
  /** Stores a build and makes it the latest. Publishing the same bytes again is a no-op. */
  publish(service: string, sourceFile: string, options: FilePublishOptions): Promise<Artifact>
}

interface Manifest extends Artifact {
  file: string
}

// Names end up in paths and in remote commands: keep them boring.
const NAME = /^[A-Za-z0-9][A-Za-z0-9._+-]*$/

export function fileArtifacts(options: FileArtifactsOptions): FileArtifactStore {
  if (typeof options?.root !== 'string' || options.root === '') {
    throw new ValidationError('root', `expected a folder path, got ${JSON.stringify(options?.root)}`)
  }
  const root = resolvePath(options.root)
  const versionDir = (service: string, version: string) => join(root, service, version)

  async function readManifest(service: string, version: string, signal?: AbortSignal): Promise<Manifest | undefined> {
    let text: string
    try {
      text = await readFile(join(versionDir(service, version), 'manifest.json'), { encoding: 'utf8', signal })
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal)
      if (isNotFound(error)) return undefined
      throw new RollingError('ADAPTER', `[rolling:file] cannot read build ${version} of ${service}: ${errorMessage(error)}`, { cause: error })
    }
    return parseManifest(text, service, version)
  }

  async function find(service: string, version: string, signal?: AbortSignal): Promise<Manifest> {
    const manifest = await readManifest(service, version, signal)
    if (!manifest) throw new RollingError('ARTIFACT_NOT_FOUND', `[rolling:file] no build ${version} of service ${service} in ${root}`)
    return manifest
  }

  async function latest(service: string, signal?: AbortSignal): Promise<string> {
    try {
      const version = (await readFile(join(root, service, 'LATEST'), { encoding: 'utf8', signal })).trim()
      checkName('version', version, `LATEST of ${service}`)
      return version
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal)
      if (!isNotFound(error)) throw error
      throw new RollingError('ARTIFACT_NOT_FOUND', `[rolling:file] service ${service} has no LATEST build in ${root} (nothing published yet)`)
    }
  }

  return {
    name: 'file',
    root,

    async resolve(service, ref, ctx) {
      checkName('service', service)
      if (ref !== 'latest') checkName('version', ref)
      const version = ref === 'latest' ? await latest(service, ctx.signal) : ref
      return toArtifact(await find(service, version, ctx.signal))
    },

    async locate(artifact, _target, ctx): Promise<ArtifactLocation> {
      checkName('service', artifact.service)
      checkName('version', artifact.version)
      const manifest = await find(artifact.service, artifact.version, ctx.signal)
      return { kind: 'path', path: join(versionDir(artifact.service, artifact.version), manifest.file), sha256: artifact.sha256, size: artifact.size }
    },

    async verify(artifact, ctx: AdapterContext) {
      checkName('service', artifact.service)
      checkName('version', artifact.version)
      const manifest = await find(artifact.service, artifact.version, ctx.signal)
      const file = join(versionDir(artifact.service, artifact.version), manifest.file)
      let got: { sha256: string; size: number }
      try {
        got = await hashFile(file, ctx.signal)
      } catch (error) {
        if (ctx.signal.aborted) throw abortReason(ctx.signal)
        throw new RollingError(
          'ARTIFACT_INTEGRITY',
          `[rolling:file] build ${artifact.version} of ${artifact.service} is corrupt: cannot read ${file}: ${errorMessage(error)}`,
          { cause: error },
        )
      }
      if (got.sha256 !== artifact.sha256 || got.size !== artifact.size) {
        throw new RollingError(
          'ARTIFACT_INTEGRITY',
          `[rolling:file] build ${artifact.version} of ${artifact.service} is corrupt: sha256 expected ${artifact.sha256} got ${got.sha256}` +
            (got.size === artifact.size ? '' : `, size expected ${artifact.size} bytes got ${got.size}`) +
            ` (${file})`,
        )
      }
    },

    async publish(service, sourceFile, opts) {
      checkName('service', service)
      checkName('version', opts?.version)
      const file = opts.file ?? basename(sourceFile)
      checkName('file', file)
      if (file === 'manifest.json') throw new ValidationError('file', '`manifest.json` is reserved for the manifest')
      const builtAt = opts.builtAt ?? new Date().toISOString()
      if (Number.isNaN(Date.parse(builtAt))) throw new ValidationError('builtAt', `expected an ISO-8601 date, got ${JSON.stringify(builtAt)}`)
      for (const [key, value] of Object.entries(opts.metadata ?? {})) {
        if (typeof value !== 'string') throw new ValidationError(`metadata.${key}`, `expected a string, got ${typeof value}`)
      }
      const { signal } = opts
      if (signal?.aborted) throw abortReason(signal)

      // Build everything in a staging folder, then rename it into place: the version
      // folder exists complete or not at all, and two publishers cannot both win.
      const serviceDir = join(root, service)
      const staging = join(serviceDir, `.staging-${process.pid}-${randomBytes(6).toString('hex')}`)
      await mkdir(staging, { recursive: true })
      try {
        const { sha256, size } = await copyAndHash(sourceFile, join(staging, file), signal)
        const manifest: Manifest = { service, version: opts.version, builtAt, sha256, size, file, ...(opts.metadata ? { metadata: { ...opts.metadata } } : {}) }
        await writeFileSynced(join(staging, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`)
        try {
          await rename(staging, versionDir(service, opts.version))
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code
          if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error
          const existing = await readManifest(service, opts.version, signal)
          if (!existing || existing.sha256 !== sha256 || existing.size !== size) {
            throw new RollingError(
              'ADAPTER',
              `[rolling:file] build ${opts.version} of ${service} already exists in ${root} with different content ` +
                `(sha256 ${existing?.sha256 ?? 'unknown'}, publishing ${sha256}); publish it under a new version`,
            )
          }
          // Same bytes: publishing again only moves LATEST below.
          await writeAtomic(join(serviceDir, 'LATEST'), `${opts.version}\n`)
          return toArtifact(existing)
        }
        await writeAtomic(join(serviceDir, 'LATEST'), `${opts.version}\n`)
        return toArtifact(manifest)
      } finally {
        await rm(staging, { recursive: true, force: true })
      }
    },
  }
}

function checkName(what: 'service' | 'version' | 'file', value: unknown, source?: string): asserts value is string {
  if (typeof value !== 'string' || !NAME.test(value) || value.includes('..')) {
    throw new RollingError(
      'INVALID_OPTION',
      `[rolling:file] invalid ${what} name ${JSON.stringify(value)}${source ? ` in ${source}` : ''}: ` +
        'expected letters, digits and . _ + - (starting with a letter or digit, no "..")',
    )
  }
}

function parseManifest(text: string, service: string, version: string): Manifest {
  const bad = (why: string) => new RollingError('ADAPTER', `[rolling:file] manifest of build ${version} of ${service} is invalid: ${why}`)
  let data: Partial<Manifest>
  try {
    data = JSON.parse(text) as Partial<Manifest>
  } catch (error) {
    throw bad(errorMessage(error))
  }
  if (data.service !== service || data.version !== version) throw bad(`it names ${String(data.service)} ${String(data.version)}`)
  if (typeof data.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(data.sha256)) throw bad('sha256 missing or not hex')
  if (typeof data.size !== 'number' || typeof data.builtAt !== 'string' || typeof data.file !== 'string') throw bad('size, builtAt or file missing')
  checkName('file', data.file, `the manifest of ${service} ${version}`)
  return data as Manifest
}

function toArtifact(manifest: Manifest): Artifact {
  const { service, version, builtAt, sha256, size, metadata } = manifest
  return { service, version, builtAt, sha256, size, ...(metadata ? { metadata: { ...metadata } } : {}) }
}

async function hashFile(path: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path, { signal }) as AsyncIterable<Buffer>) {
    hash.update(chunk)
    size += chunk.length
  }
  return { sha256: hash.digest('hex'), size }
}

/** Copies `from` to a new file `to`, hashing the bytes on the way, and syncs it to disk. */
async function copyAndHash(from: string, to: string, signal?: AbortSignal): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256')
  let size = 0
  const out = await open(to, 'wx')
  try {
    try {
      for await (const chunk of createReadStream(from, { signal }) as AsyncIterable<Buffer>) {
        hash.update(chunk)
        size += chunk.length
        await out.write(chunk)
      }
    } catch (error) {
      if (signal?.aborted) throw abortReason(signal)
      if (isNotFound(error)) throw new RollingError('INVALID_OPTION', `[rolling:file] source file ${from} does not exist`, { cause: error })
      throw error
    }
    await out.datasync()
  } finally {
    await out.close()
  }
  return { sha256: hash.digest('hex'), size }
}

async function writeFileSynced(path: string, data: string): Promise<void> {
  const handle = await open(path, 'wx')
  try {
    await handle.writeFile(data, 'utf8')
    await handle.datasync()
  } finally {
    await handle.close()
  }
}

/** Temp file + rename: readers see the old content or the new, never a partial write. */
async function writeAtomic(path: string, data: string): Promise<void> {
  const temp = `${path}.${process.pid}-${randomBytes(6).toString('hex')}.tmp`
  try {
    await writeFileSynced(temp, data)
    await rename(temp, path)
  } catch (error) {
    await rm(temp, { force: true })
    throw error
  }
}

function isNotFound(error: unknown): boolean {
  return (error as NodeJS.ErrnoException | undefined)?.code === 'ENOENT'
}
