// The S3 artifact store: `<prefix><service>/<version>/manifest.json`, the bytes at
// `<prefix><service>/.builds/<sha256>/<file>` and `<prefix><service>/LATEST`. Hosts fetch builds
// through presigned GET URLs, so they need no AWS credentials; the manifest is written after the
// bytes and LATEST after the manifest, so a reader that finds a version or a pointer always finds
// a complete build behind it. The bytes live at a key named by their own sha256, so no publisher
// can overwrite the bytes another one's manifest points to: the manifest's conditional write is
// the one commit point of a publish.
import { createReadStream } from 'node:fs'
import { basename } from 'node:path'
import { GetObjectCommand, PutObjectCommand, S3Client, S3ServiceException } from '@aws-sdk/client-s3'
import { getSignedUrl } from '@aws-sdk/s3-request-presigner'
import { RollingError, ValidationError } from '@org/rolling-core'
import { abortReason, errorMessage, throwIfAborted } from '@org/rolling-core/adapter'
import type { AdapterContext, Artifact, ArtifactLocation, ArtifactStore } from '@org/rolling-core'
import { type Manifest, checkName, parseManifest, toArtifact } from './names.js'
import { type S3ArtifactsOptions, type S3PublishOptions, validate } from './options.js'
import { hashFile, hashStream, hashingStream } from './hashing.js'

export type { S3ArtifactsOptions, S3PublishOptions }

export interface S3ArtifactStore extends ArtifactStore {
  readonly bucket: string
  /** The normalized prefix: `''` or ending in `/`. */
  readonly prefix: string
  readonly client: S3Client
  verify(artifact: Artifact, ctx: AdapterContext): Promise<void>
  /**
   * Uploads a build and makes it the latest. Publishing the same bytes again only moves
   * LATEST; different bytes under an existing version are refused.
   */
  publish(service: string, sourceFile: string, options: S3PublishOptions): Promise<Artifact>
  /** Closes the client the store created from `clientConfig`; a client you passed is left alone. */
  destroy(): void
}

export function s3Artifacts(options: S3ArtifactsOptions): S3ArtifactStore {
  const opts = validate(options)
  const { bucket, prefix, presignExpiresSec } = opts
  const owned = !options.client
  const client = options.client ?? new S3Client({ ...options.clientConfig })
  const where = `s3://${bucket}/${prefix}`
  /** Where builds published before content addressing lie (and where their manifests still point). */
  const legacyKey = (service: string, version: string, file: string) => `${prefix}${service}/${version}/${file}`
  // `.builds` cannot be a version: names start with a letter or digit.
  const contentKey = (service: string, sha256: string, file: string) => `${prefix}${service}/.builds/${sha256}/${file}`
  const manifestKey = (service: string, version: string) => legacyKey(service, version, 'manifest.json')
  /** The object a manifest describes: its content key, or for an old manifest the version folder. */
  const bytesKey = (manifest: Manifest) => {
    const addressed = contentKey(manifest.service, manifest.sha256, manifest.file)
    // Only a key this store would have written is followed: a manifest cannot send readers elsewhere.
    return manifest.key === addressed ? addressed : legacyKey(manifest.service, manifest.version, manifest.file)
  }
  const latestKey = (service: string) => `${prefix}${service}/LATEST`
  /** Presigned GET URLs by object key, reused while they have half their lifetime left. */
  const presigned = new Map<string, { url: string; expiresAtMs: number }>()

  /** Fails with the abort reason when the signal fired, else an ADAPTER error naming the object. */
  function failure(error: unknown, what: string, key: string, signal?: AbortSignal): Error {
    if (signal?.aborted) return abortReason(signal)
    if (error instanceof RollingError) return error
    const name = error instanceof S3ServiceException ? `${error.name}: ` : ''
    // Without s3:ListBucket, S3 answers a GET of a missing key with 403, not 404.
    const hint = statusOf(error) === 403 ? ' (check the IAM policy: a missing object reads as AccessDenied without s3:ListBucket on the prefix)' : ''
    return new RollingError('ADAPTER', `[rolling:s3] cannot ${what} s3://${bucket}/${key}: ${name}${errorMessage(error)}${hint}`, { cause: error })
  }

  async function getText(key: string, signal?: AbortSignal): Promise<string | undefined> {
    try {
      const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: signal })
      return (await response.Body?.transformToString('utf8')) ?? ''
    } catch (error) {
      if (!signal?.aborted && isNoSuchKey(error)) return undefined
      throw failure(error, 'read', key, signal)
    }
  }

  async function putText(key: string, body: string, contentType: string, signal?: AbortSignal, ifNoneMatch?: boolean): Promise<'written' | 'exists'> {
    try {
      await client.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType, ...(ifNoneMatch ? { IfNoneMatch: '*' } : {}) }),
        { abortSignal: signal },
      )
      return 'written'
    } catch (error) {
      if (ifNoneMatch && !signal?.aborted && statusOf(error) === 412) return 'exists'
      throw failure(error, 'write', key, signal)
    }
  }

  async function readManifest(service: string, version: string, signal?: AbortSignal): Promise<Manifest | undefined> {
    const key = manifestKey(service, version)
    const text = await getText(key, signal)
    return text === undefined ? undefined : parseManifest(text, service, version, `s3://${bucket}/${key}`)
  }

  async function find(service: string, version: string, signal?: AbortSignal): Promise<Manifest> {
    const manifest = await readManifest(service, version, signal)
    if (!manifest) throw new RollingError('ARTIFACT_NOT_FOUND', `[rolling:s3] no build ${version} of service ${service} in ${where} (bucket ${bucket})`)
    return manifest
  }

  async function latest(service: string, signal?: AbortSignal): Promise<string> {
    const text = await getText(latestKey(service), signal)
    if (text === undefined) {
      throw new RollingError('ARTIFACT_NOT_FOUND', `[rolling:s3] service ${service} has no LATEST build in ${where} (bucket ${bucket}; nothing published yet)`)
    }
    const version = text.trim()
    checkName('version', version, `s3://${bucket}/${latestKey(service)}`)
    return version
  }

  /** Checks the caller's artifact against the stored manifest: a stale or forged one is refused. */
  async function manifestOf(artifact: Artifact, signal: AbortSignal): Promise<Manifest> {
    checkName('service', artifact.service)
    checkName('version', artifact.version)
    const manifest = await find(artifact.service, artifact.version, signal)
    if (manifest.sha256 !== artifact.sha256 || manifest.size !== artifact.size) {
      throw new RollingError(
        'ARTIFACT_INTEGRITY',
        `[rolling:s3] build ${artifact.version} of ${artifact.service} in ${where} does not match: the manifest says sha256 ${manifest.sha256} ` +
          `(${manifest.size} bytes), expected ${artifact.sha256} (${artifact.size} bytes)`,
      )
    }
    return manifest
  }

  return {
    name: 's3',
    bucket,
    prefix,
    client,

    async resolve(service, ref, ctx) {
      checkName('service', service)
      if (ref !== 'latest') checkName('version', ref)
      throwIfAborted(ctx.signal)
      const version = ref === 'latest' ? await latest(service, ctx.signal) : ref
      return toArtifact(await find(service, version, ctx.signal))
    },

    async locate(artifact, _target, ctx): Promise<ArtifactLocation> {
      const manifest = await manifestOf(artifact, ctx.signal)
      const key = bytesKey(manifest)
      // Every host of a batch gets the same URL while it has at least half its lifetime left:
      // identical deploy commands, which the SSM executor sends in one SendCommand for up to
      // 50 instances (a URL per host would make one call per host).
      const now = Date.now()
      let signed = presigned.get(key)
      if (!signed || signed.expiresAtMs - now < (presignExpiresSec * 1000) / 2) {
        try {
          // Presigning is local: it only signs with the client's credentials, it sends nothing.
          const url = await getSignedUrl(client, new GetObjectCommand({ Bucket: bucket, Key: key }), { expiresIn: presignExpiresSec })
          signed = { url, expiresAtMs: now + presignExpiresSec * 1000 }
          presigned.set(key, signed)
        } catch (error) {
          throw failure(error, 'presign a URL for', key, ctx.signal)
        }
      }
      throwIfAborted(ctx.signal)
      return {
        kind: 'url',
        url: signed.url,
        sha256: manifest.sha256,
        size: manifest.size,
        expiresAt: new Date(signed.expiresAtMs).toISOString(),
        s3: { bucket, key },
      }
    },

    async verify(artifact, ctx) {
      const manifest = await manifestOf(artifact, ctx.signal)
      const key = bytesKey(manifest)
      let got: { sha256: string; size: number }
      try {
        const response = await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }), { abortSignal: ctx.signal })
        got = await hashStream(response.Body as AsyncIterable<Uint8Array> | undefined, ctx.signal)
      } catch (error) {
        if (ctx.signal.aborted) throw abortReason(ctx.signal)
        throw new RollingError(
          'ARTIFACT_INTEGRITY',
          `[rolling:s3] build ${artifact.version} of ${artifact.service} is corrupt: cannot read s3://${bucket}/${key}: ${errorMessage(error)}`,
          { cause: error },
        )
      }
      if (got.sha256 !== artifact.sha256 || got.size !== artifact.size) {
        throw new RollingError(
          'ARTIFACT_INTEGRITY',
          `[rolling:s3] build ${artifact.version} of ${artifact.service} is corrupt: sha256 expected ${artifact.sha256} got ${got.sha256}` +
            (got.size === artifact.size ? '' : `, size expected ${artifact.size} bytes got ${got.size}`) +
            ` (s3://${bucket}/${key})`,
        )
      }
    },

    async publish(service, sourceFile, publishOptions) {
      checkName('service', service)
      checkName('version', publishOptions?.version)
      const { version, signal } = publishOptions
      const file = publishOptions.file ?? basename(sourceFile)
      checkName('file', file)
      if (file === 'manifest.json') throw new ValidationError('file', '`manifest.json` is reserved for the manifest')
      const builtAt = publishOptions.builtAt ?? new Date().toISOString()
      if (Number.isNaN(Date.parse(builtAt))) throw new ValidationError('builtAt', `expected an ISO-8601 date, got ${JSON.stringify(builtAt)}`)
      for (const [key, value] of Object.entries(publishOptions.metadata ?? {})) {
        if (typeof value !== 'string') throw new ValidationError(`metadata.${key}`, `expected a string, got ${typeof value}`)
      }
      throwIfAborted(signal)
      // The bytes' key names their sha256, so the file is hashed before anything is sent; the
      // upload hashes again, and a file that changed in between is refused, never stored under a wrong name.
      const local = await hashFile(sourceFile, signal)

      const refuse = (existing: Manifest, sha256: string) =>
        new RollingError(
          'ADAPTER',
          `[rolling:s3] build ${version} of ${service} already exists in ${where} with different content ` +
            `(sha256 ${existing.sha256}, publishing ${sha256}); publish it under a new version`,
        )
      const pointTo = () => putText(latestKey(service), `${version}\n`, 'text/plain; charset=utf-8', signal)

      // A version is immutable: compare before uploading, so a refused publish leaves the stored bytes alone.
      const existing = await readManifest(service, version, signal)
      if (existing) {
        if (existing.sha256 !== local.sha256 || existing.size !== local.size) throw refuse(existing, local.sha256)
        await pointTo()
        return toArtifact(existing)
      }

      const key = contentKey(service, local.sha256, file)
      const hashing = hashingStream()
      const source = createReadStream(sourceFile)
      // A read error fails the upload through the body stream; the SDK's rejection is what we report,
      // and after an abort nobody listens to the streams any more, so their late errors are dropped.
      source.on('error', (error) => hashing.destroy(error))
      hashing.on('error', () => {})
      try {
        await client.send(
          new PutObjectCommand({ Bucket: bucket, Key: key, Body: source.pipe(hashing), ContentLength: local.size, ContentType: 'application/octet-stream' }),
          { abortSignal: signal },
        )
      } catch (error) {
        source.destroy()
        hashing.destroy()
        throw failure(error, 'upload the build to', key, signal)
      }
      const uploaded = hashing.result()
      if (uploaded.size !== local.size || uploaded.sha256 !== local.sha256) {
        throw new RollingError(
          'ADAPTER',
          `[rolling:s3] source file ${sourceFile} changed while it was uploaded (${local.size} bytes, sha256 ${local.sha256}, ` +
            `then ${uploaded.size} bytes, sha256 ${uploaded.sha256}); publish again`,
        )
      }

      const manifest: Manifest = {
        service,
        version,
        builtAt,
        sha256: uploaded.sha256,
        size: local.size,
        file,
        key,
        ...(publishOptions.metadata ? { metadata: { ...publishOptions.metadata } } : {}),
      }
      // If-None-Match makes the manifest the commit point on S3: of two racing publishers one wins.
      // The loser's bytes stay at their own content key, which no manifest names: harmless, and
      // reused by the next publish of the same bytes.
      const mkey = manifestKey(service, version)
      if ((await putText(mkey, `${JSON.stringify(manifest, null, 2)}\n`, 'application/json', signal, true)) === 'exists') {
        const winner = await find(service, version, signal)
        if (winner.sha256 !== manifest.sha256 || winner.size !== manifest.size) {
          throw new RollingError(
            'ADAPTER',
            `[rolling:s3] version ${version} of ${service} was published concurrently by another run; not overwritten ` +
              `(${where}: the stored build has sha256 ${winner.sha256}, this one ${manifest.sha256}); publish it under a new version`,
          )
        }
        await pointTo()
        return toArtifact(winner)
      }
      await pointTo()
      return toArtifact(manifest)
    },

    destroy() {
      if (owned) client.destroy()
    },
  }
}

function statusOf(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } } | undefined)?.$metadata?.httpStatusCode
}

function isNoSuchKey(error: unknown): boolean {
  // A missing bucket is also a 404, but it is a setup error, not a missing build.
  const name = (error as { name?: string } | undefined)?.name
  return name === 'NoSuchKey' || (statusOf(error) === 404 && name !== 'NoSuchBucket')
}
