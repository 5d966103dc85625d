// Behaviour beyond the contract: the bucket layout, presigned URLs a host can fetch,
// immutability of versions, metadata, error messages, option validation and abort.
import { createHash, randomBytes } from 'node:crypto'
import { createServer as createHttpServer } from 'node:http'
import { type Server, createServer, type Socket } from 'node:net'
import { GetObjectCommand, PutObjectCommand, S3Client } from '@aws-sdk/client-s3'
import { contractContext } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { s3Artifacts, type S3ArtifactStore } from '../src/index.js'
import { type Moto, startMoto } from './moto.js'

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex')
const target = { id: 'web-1', address: '127.0.0.2', port: 8080 }

let s3: Moto
let store: S3ArtifactStore

async function getText(key: string): Promise<string> {
  const response = await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: key }))
  return (await response.Body?.transformToString()) ?? ''
}

async function rejection(promise: Promise<unknown>): Promise<Error & { code?: string }> {
  try {
    await promise
  } catch (error) {
    return error as Error & { code?: string }
  }
  throw new Error('expected the call to reject, but it resolved')
}

beforeAll(async () => {
  s3 = await startMoto()
  store = s3Artifacts({ bucket: s3.bucket, prefix: 'teams/web', client: s3.client })
})
afterAll(() => s3?.stop())

describe('publish and fetch', () => {
  it('publishes, resolves latest, locates and serves the exact bytes over the presigned URL', async () => {
    const bytes = new Uint8Array(randomBytes(300_000))
    const published = await store.publish('api', await s3.tempFile(bytes, 'api.tar.gz'), { version: '2.0.0', builtAt: '2026-11-01T10:00:00.000Z' })
    expect(published).toEqual({ service: 'api', version: '2.0.0', builtAt: '2026-11-01T10:00:00.000Z', sha256: sha256(bytes), size: bytes.byteLength })

    const artifact = await store.resolve('api', 'latest', contractContext())
    expect(artifact).toEqual(published)

    const before = Date.now()
    const location = await store.locate(artifact, target, contractContext())
    if (location.kind !== 'url') throw new Error(`expected a url location, got ${location.kind}`)
    expect(location).toMatchObject({ sha256: sha256(bytes), size: bytes.byteLength })
    expect(location.url).toContain(`/builds/teams/web/api/.builds/${sha256(bytes)}/api.tar.gz`)
    expect(new URL(location.url).searchParams.get('X-Amz-Expires')).toBe('900')
    const expires = Date.parse(location.expiresAt ?? '')
    expect(expires - before).toBeGreaterThanOrEqual(899_000)
    expect(expires - Date.now()).toBeLessThanOrEqual(900_000)

    // The host needs no credentials: a plain GET of the URL returns the build.
    const response = await fetch(location.url)
    expect(response.status).toBe(200)
    const fetched = new Uint8Array(await response.arrayBuffer())
    expect(fetched.byteLength).toBe(bytes.byteLength)
    expect(sha256(fetched)).toBe(location.sha256)

    await store.verify(artifact, contractContext())
  })

  it('lays the bucket out as <prefix><service>/.builds/<sha256>/<file>, <version>/manifest.json and LATEST', async () => {
    const bytes = new Uint8Array(randomBytes(1000))
    await store.publish('layout', await s3.tempFile(bytes, 'layout-1.zip'), { version: '1.0.0+build.7', file: 'app.zip', metadata: { git: 'abc123' } })
    expect(await getText('teams/web/layout/LATEST')).toBe('1.0.0+build.7\n')
    const manifest = JSON.parse(await getText('teams/web/layout/1.0.0+build.7/manifest.json')) as Record<string, unknown>
    expect(manifest).toMatchObject({
      service: 'layout',
      version: '1.0.0+build.7',
      sha256: sha256(bytes),
      size: 1000,
      file: 'app.zip',
      key: `teams/web/layout/.builds/${sha256(bytes)}/app.zip`,
      metadata: { git: 'abc123' },
    })
    expect(Number.isNaN(Date.parse(String(manifest.builtAt)))).toBe(false)
    // Stored verbatim: no aws-chunked framing inside the object.
    expect(
      sha256(
        new Uint8Array(
          await (
            await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `teams/web/layout/.builds/${sha256(bytes)}/app.zip` }))
          ).Body!.transformToByteArray(),
        ),
      ),
    ).toBe(sha256(bytes))
  })

  it('round-trips build metadata through resolve', async () => {
    const file = await s3.tempFile(new Uint8Array(randomBytes(64)))
    const metadata = { git: '9f1c2e7d', builder: 'ci #418', branch: 'main' }
    const published = await store.publish('meta', file, { version: '3.1.4', metadata })
    expect(published.metadata).toEqual(metadata)
    expect((await store.resolve('meta', '3.1.4', contractContext())).metadata).toEqual(metadata)
    expect((await store.resolve('meta', 'latest', contractContext())).metadata).toEqual(metadata)
  })

  it('moves LATEST to each new version and back when an old version is published again', async () => {
    const one = await s3.tempFile(new Uint8Array(randomBytes(100)))
    const two = await s3.tempFile(new Uint8Array(randomBytes(100)))
    await store.publish('moves', one, { version: '1' })
    await store.publish('moves', two, { version: '2' })
    expect((await store.resolve('moves', 'latest', contractContext())).version).toBe('2')
    // Same bytes under an existing version: no upload, only the pointer moves (a rollback).
    await store.publish('moves', one, { version: '1' })
    expect((await store.resolve('moves', 'latest', contractContext())).version).toBe('1')
  })
})

describe('versions are immutable', () => {
  it('refuses to overwrite a version with different bytes and leaves the stored build and LATEST alone', async () => {
    const original = new Uint8Array(randomBytes(500))
    await store.publish('immutable', await s3.tempFile(original, 'a.tar'), { version: '1.0.0' })
    await store.publish('immutable', await s3.tempFile(new Uint8Array(randomBytes(10)), 'b.tar'), { version: '1.0.1' })

    const error = await rejection(store.publish('immutable', await s3.tempFile(new Uint8Array(randomBytes(500)), 'a.tar'), { version: '1.0.0' }))
    expect(error.code).toBe('ADAPTER')
    expect(error.message).toMatch(/build 1\.0\.0 of immutable already exists .* with different content/)
    expect(error.message).toContain(sha256(original))

    expect(
      sha256(
        new Uint8Array(
          await (
            await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `teams/web/immutable/.builds/${sha256(original)}/a.tar` }))
          ).Body!.transformToByteArray(),
        ),
      ),
    ).toBe(sha256(original))
    expect((await store.resolve('immutable', 'latest', contractContext())).version).toBe('1.0.1')
    await store.verify(await store.resolve('immutable', '1.0.0', contractContext()), contractContext())
  })
})

describe('errors', () => {
  it('names the bucket, service and version of a missing build', async () => {
    await store.publish('known', await s3.tempFile(new Uint8Array(randomBytes(10))), { version: '1.0.0' })
    const error = await rejection(store.resolve('known', '9.9.9', contractContext()))
    expect(error).toMatchObject({ code: 'ARTIFACT_NOT_FOUND' })
    expect(error.message).toBe('[rolling:s3] no build 9.9.9 of service known in s3://builds/teams/web/ (bucket builds)')
  })

  it('names the bucket and service of a missing LATEST pointer', async () => {
    const error = await rejection(store.resolve('never-published', 'latest', contractContext()))
    expect(error).toMatchObject({ code: 'ARTIFACT_NOT_FOUND' })
    expect(error.message).toContain('service never-published has no LATEST build')
    expect(error.message).toContain('bucket builds')
  })

  it('treats a LATEST pointer to a missing build as not found, naming that version', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'teams/web/dangling/LATEST', Body: '4.0.0\n' }))
    const error = await rejection(store.resolve('dangling', 'latest', contractContext()))
    expect(error).toMatchObject({ code: 'ARTIFACT_NOT_FOUND' })
    expect(error.message).toContain('no build 4.0.0 of service dangling')
  })

  it('rejects a LATEST pointer that is not a valid version name', async () => {
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: 'teams/web/evil/LATEST', Body: '../../other\n' }))
    const error = await rejection(store.resolve('evil', 'latest', contractContext()))
    expect(error).toMatchObject({ code: 'INVALID_OPTION' })
    expect(error.message).toContain('LATEST')
  })

  it('reports a missing bucket as an adapter error, not a missing build', async () => {
    const other = s3Artifacts({ bucket: 'no-such-bucket', client: s3.client })
    const error = await rejection(other.resolve('api', 'latest', contractContext()))
    expect(error).toMatchObject({ code: 'ADAPTER' })
    expect(error.message).toContain('s3://no-such-bucket/api/LATEST')
  })

  it('refuses to locate or verify an artifact that does not match the stored manifest', async () => {
    const artifact = await store.publish('mismatch', await s3.tempFile(new Uint8Array(randomBytes(32))), { version: '1.0.0' })
    const forged = { ...artifact, sha256: 'f'.repeat(64) }
    expect(await rejection(store.locate(forged, target, contractContext()))).toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
    expect(await rejection(store.verify(forged, contractContext()))).toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
  })

  it('verify reports a truncated object with both sizes', async () => {
    const artifact = await store.publish('truncated', await s3.tempFile(new Uint8Array(randomBytes(2048)), 'app.bin'), { version: '1.0.0' })
    await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: `teams/web/truncated/.builds/${artifact.sha256}/app.bin`, Body: randomBytes(1000) }))
    const error = await rejection(store.verify(artifact, contractContext()))
    expect(error).toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
    expect(error.message).toContain('size expected 2048 bytes got 1000')
  })

  it('verify reports a deleted object as corrupt', async () => {
    const artifact = await store.publish('deleted', await s3.tempFile(new Uint8Array(randomBytes(16)), 'app.bin'), { version: '1.0.0' })
    const { DeleteObjectCommand } = await import('@aws-sdk/client-s3')
    await s3.client.send(new DeleteObjectCommand({ Bucket: s3.bucket, Key: `teams/web/deleted/.builds/${artifact.sha256}/app.bin` }))
    const error = await rejection(store.verify(artifact, contractContext()))
    expect(error).toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
    expect(error.message).toContain(`cannot read s3://builds/teams/web/deleted/.builds/${artifact.sha256}/app.bin`)
  })

  it('reads a build published before content addressing, at <version>/<file>', async () => {
    const bytes = new Uint8Array(randomBytes(777))
    const put = (key: string, body: Uint8Array | string) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }))
    await put('teams/web/legacy/0.9.0/app.tar.gz', bytes)
    const old = {
      service: 'legacy',
      version: '0.9.0',
      builtAt: '2026-01-01T00:00:00.000Z',
      sha256: sha256(bytes),
      size: 777,
      file: 'app.tar.gz',
      key: 'teams/web/legacy/0.9.0/app.tar.gz',
    }
    await put('teams/web/legacy/0.9.0/manifest.json', JSON.stringify(old))
    const artifact = await store.resolve('legacy', '0.9.0', contractContext())
    await store.verify(artifact, contractContext())
    const location = await store.locate(artifact, target, contractContext())
    if (location.kind !== 'url') throw new Error('expected a url')
    expect(sha256(new Uint8Array(await (await fetch(location.url)).arrayBuffer()))).toBe(sha256(bytes))
  })

  it('never follows a manifest key outside the build it describes', async () => {
    const bytes = new Uint8Array(randomBytes(100))
    const put = (key: string, body: Uint8Array | string) => s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: key, Body: body }))
    await put('teams/web/elsewhere', bytes)
    const forged = {
      service: 'forged',
      version: '1.0.0',
      builtAt: '2026-01-01T00:00:00.000Z',
      sha256: sha256(bytes),
      size: 100,
      file: 'app.bin',
      key: 'teams/web/elsewhere',
    }
    await put('teams/web/forged/1.0.0/manifest.json', JSON.stringify(forged))
    const error = await rejection(store.verify(await store.resolve('forged', '1.0.0', contractContext()), contractContext()))
    expect(error.message).toContain('cannot read s3://builds/teams/web/forged/1.0.0/app.bin')
  })
})

describe('validation', () => {
  it.each([
    ['service', '../etc'],
    ['service', ''],
    ['version', 'a/b'],
    ['version', '..'],
  ])('rejects the %s name %j before any request', async (what, value) => {
    const error =
      what === 'service' ? await rejection(store.resolve(value, 'latest', contractContext())) : await rejection(store.resolve('api', value, contractContext()))
    expect(error).toMatchObject({ code: 'INVALID_OPTION' })
    expect(error.message).toContain(`invalid ${what} name`)
  })

  it('rejects bad publish input', async () => {
    const file = await s3.tempFile(new Uint8Array(1))
    expect(await rejection(store.publish('api', file, { version: 'x', file: 'manifest.json' }))).toMatchObject({ code: 'INVALID_OPTION' })
    expect(await rejection(store.publish('api', file, { version: 'x', builtAt: 'yesterday' }))).toMatchObject({ code: 'INVALID_OPTION' })
    expect(await rejection(store.publish('api', '/nonexistent/build.tar', { version: 'x' }))).toMatchObject({ code: 'INVALID_OPTION' })
  })

  it('validates options at setup, naming the option', () => {
    expect(() => s3Artifacts({ bucket: 'Bad_Bucket' })).toThrow(/`bucket`/)
    expect(() => s3Artifacts({ bucket: 'builds', client: s3.client, clientConfig: {} })).toThrow(/`client`/)
    expect(() => s3Artifacts({ bucket: 'builds', client: s3.client, presignExpiresSec: 0 })).toThrow(/`presignExpiresSec`.*got 0/)
    expect(() => s3Artifacts({ bucket: 'builds', client: s3.client, presignExpiresSec: 604_801 })).toThrow(/`presignExpiresSec`/)
    expect(() => s3Artifacts({ bucket: 'builds', client: s3.client, prefix: '/abs' })).toThrow(/`prefix`/)
    expect(() => s3Artifacts({ bucket: 'builds', client: s3.client, prefix: 'a/../b' })).toThrow(/`prefix`/)
    expect(s3Artifacts({ bucket: 'builds', client: s3.client, prefix: 'a/b/' }).prefix).toBe('a/b/')
  })

  it('gives every host the same URL while it has half its lifetime left, then signs a new one', async () => {
    const own = s3Artifacts({ bucket: s3.bucket, prefix: 'shared-url', clientConfig: s3.clientConfig, presignExpiresSec: 2 })
    try {
      const artifact = await own.publish('svc', await s3.tempFile(new Uint8Array(randomBytes(10))), { version: '1' })
      const url = async (id: string) => {
        const location = await own.locate(artifact, { id, address: '127.0.0.2' }, contractContext())
        if (location.kind !== 'url') throw new Error('expected a url')
        return location
      }
      const [a, b] = [await url('host-1'), await url('host-2')]
      // Identical commands for a batch: the SSM executor sends them in one SendCommand.
      expect(b.url).toBe(a.url)
      expect(b.expiresAt).toBe(a.expiresAt)
      await new Promise((resolve) => setTimeout(resolve, 1100))
      const c = await url('host-3')
      expect(c.url).not.toBe(a.url)
      expect(Date.parse(c.expiresAt ?? '') - Date.now()).toBeGreaterThan(1000)
      expect((await fetch(c.url)).status).toBe(200)
    } finally {
      own.destroy()
    }
  })

  it('creates and owns a client from clientConfig, with a custom presign lifetime', async () => {
    const own = s3Artifacts({ bucket: s3.bucket, prefix: 'own', clientConfig: s3.clientConfig, presignExpiresSec: 60 })
    try {
      expect(own.client).toBeInstanceOf(S3Client)
      expect(own.client).not.toBe(s3.client)
      const artifact = await own.publish('svc', await s3.tempFile(new Uint8Array(randomBytes(10))), { version: '1' })
      const location = await own.locate(artifact, target, contractContext())
      if (location.kind !== 'url') throw new Error('expected a url')
      expect(new URL(location.url).searchParams.get('X-Amz-Expires')).toBe('60')
    } finally {
      own.destroy()
    }
  })
})

describe('abort', () => {
  it('rejects every call with the abort reason when the signal has already fired', async () => {
    const artifact = await store.publish('aborted', await s3.tempFile(new Uint8Array(randomBytes(10))), { version: '1' })
    const controller = new AbortController()
    const reason = new Error('stop now')
    controller.abort(reason)
    const ctx = contractContext({ signal: controller.signal })
    expect(await rejection(store.resolve('aborted', 'latest', ctx))).toBe(reason)
    expect(await rejection(store.locate(artifact, target, ctx))).toBe(reason)
    expect(await rejection(store.verify(artifact, ctx))).toBe(reason)
    expect(await rejection(store.publish('aborted', await s3.tempFile(new Uint8Array(1)), { version: '2', signal: controller.signal }))).toBe(reason)
    expect((await store.resolve('aborted', 'latest', contractContext())).version).toBe('1')
  })

  describe('against an S3 endpoint that never answers', () => {
    let hanging: Server
    const sockets = new Set<Socket>()
    let client: S3Client
    beforeAll(async () => {
      hanging = createServer((socket) => {
        sockets.add(socket)
        socket.on('error', () => {})
        socket.on('close', () => sockets.delete(socket))
      })
      await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve))
      const { port } = hanging.address() as { port: number }
      client = new S3Client({ ...s3.clientConfig, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 })
    })
    afterAll(async () => {
      client?.destroy()
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => hanging?.close(resolve))
    })

    it('stops resolve, verify and publish in flight when the signal aborts', async () => {
      const stuck = s3Artifacts({ bucket: 'builds', client })
      const artifact = { service: 'api', version: '1', builtAt: new Date().toISOString(), sha256: 'a'.repeat(64), size: 1 }
      const file = await s3.tempFile(new Uint8Array(randomBytes(100)))
      const calls: ((signal: AbortSignal) => Promise<unknown>)[] = [
        (signal) => stuck.resolve('api', 'latest', contractContext({ signal })),
        (signal) => stuck.verify(artifact, contractContext({ signal })),
        (signal) => stuck.locate(artifact, target, contractContext({ signal })),
        (signal) => stuck.publish('api', file, { version: '1', signal }),
      ]
      for (const call of calls) {
        const controller = new AbortController()
        const reason = new Error('deadline passed')
        const started = Date.now()
        const pending = rejection(call(controller.signal))
        setTimeout(() => controller.abort(reason), 100)
        expect(await pending).toBe(reason)
        expect(Date.now() - started).toBeLessThan(2_000)
      }
    })
  })

  it('stops an upload in flight when the signal aborts', async () => {
    // Answers reads with NoSuchKey (nothing published yet), then swallows the upload without answering.
    let uploading: () => void = () => {}
    const uploadStarted = new Promise<void>((resolve) => {
      uploading = resolve
    })
    const server = createHttpServer((request, response) => {
      if (request.method === 'GET') {
        response.writeHead(404, { 'content-type': 'application/xml' })
        response.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>NoSuchKey</Code><Message>missing</Message></Error>')
        return
      }
      request.once('data', () => uploading())
      request.resume()
    })
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
    const { port } = server.address() as { port: number }
    const client = new S3Client({ ...s3.clientConfig, endpoint: `http://127.0.0.1:${port}`, maxAttempts: 1 })
    try {
      const stuck = s3Artifacts({ bucket: 'builds', client })
      const controller = new AbortController()
      const reason = new Error('deadline passed')
      const pending = rejection(stuck.publish('api', await s3.tempFile(new Uint8Array(randomBytes(1_000_000))), { version: '1', signal: controller.signal }))
      await uploadStarted
      controller.abort(reason)
      expect(await pending).toBe(reason)
    } finally {
      client.destroy()
      server.closeAllConnections()
      await new Promise((resolve) => server.close(resolve))
    }
  })
})
