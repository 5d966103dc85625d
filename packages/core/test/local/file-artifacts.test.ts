// The filesystem artifact store on a real temp folder: publish, resolve, latest, locate,
// verify against corruption, refused overwrites, and names that must never reach a path.
import { createHash } from 'node:crypto'
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeEach, describe, expect, it } from 'vitest'
import { fileArtifacts } from '../../src/local/file-artifacts.js'
import type { FileArtifactStore } from '../../src/local/file-artifacts.js'
import { testContext } from './_ctx.js'

const base = mkdtempSync(join(tmpdir(), 'rolling-files-'))
afterAll(() => rmSync(base, { recursive: true, force: true }))
const target = { id: 'web-1', address: '127.0.0.2' }

let root: string
let store: FileArtifactStore
let n = 0
beforeEach(() => {
  root = join(base, `store-${++n}`)
  store = fileArtifacts({ root })
})

function source(name: string, content: string | Buffer): string {
  const dir = join(base, `src-${++n}`)
  mkdirSync(dir)
  writeFileSync(join(dir, name), content)
  return join(dir, name)
}
const sha = (data: string | Buffer) => createHash('sha256').update(data).digest('hex')

describe('fileArtifacts', () => {
  it('publishes a build with its manifest and resolves it by version and as latest', async () => {
    const file = source('app.tgz', 'v1 bytes')
    const published = await store.publish('checkout', file, { version: '1.0.0', builtAt: '2025-01-02T03:04:05.000Z', metadata: { git: 'abc123' } })
    expect(published).toEqual({
      service: 'checkout',
      version: '1.0.0',
      builtAt: '2025-01-02T03:04:05.000Z',
      sha256: sha('v1 bytes'),
      size: 8,
      metadata: { git: 'abc123' },
    })
    expect(store.name).toBe('file')
    const manifest = JSON.parse(readFileSync(join(root, 'checkout', '1.0.0', 'manifest.json'), 'utf8')) as Record<string, unknown>
    expect(manifest).toMatchObject({ file: 'app.tgz', sha256: sha('v1 bytes'), size: 8 })
    expect(readFileSync(join(root, 'checkout', 'LATEST'), 'utf8').trim()).toBe('1.0.0')
    const ctx = testContext()
    expect(await store.resolve('checkout', '1.0.0', ctx)).toEqual(published)
    expect(await store.resolve('checkout', 'latest', ctx)).toEqual(published)
  })

  it('moves LATEST to the newest publish and keeps older builds resolvable', async () => {
    const ctx = testContext()
    const v1 = await store.publish('api', source('a.bin', 'one'), { version: 'v1' })
    const v2 = await store.publish('api', source('a.bin', 'two'), { version: 'v2' })
    expect((await store.resolve('api', 'latest', ctx)).version).toBe('v2')
    expect(await store.resolve('api', 'v1', ctx)).toEqual(v1)
    expect(v2.builtAt).toMatch(/^\d{4}-\d\d-\d\dT/)
    // No temp or staging files left behind.
    expect(readdirSync(join(root, 'api')).sort()).toEqual(['LATEST', 'v1', 'v2'])
  })

  it('locates the stored file by absolute path', async () => {
    const artifact = await store.publish('api', source('bundle.tar.gz', 'xyz'), { version: '2.0.0+build.7' })
    const location = await store.locate(artifact, target, testContext())
    expect(location).toEqual({ kind: 'path', path: join(root, 'api', '2.0.0+build.7', 'bundle.tar.gz'), sha256: sha('xyz'), size: 3 })
    if (location.kind !== 'path') throw new Error('expected a path')
    expect(readFileSync(location.path, 'utf8')).toBe('xyz')
  })

  it('verifies an intact build and refuses a corrupt one', async () => {
    const ctx = testContext()
    const artifact = await store.publish('api', source('a.bin', Buffer.alloc(200_000, 7)), { version: 'v1' })
    await expect(store.verify(artifact, ctx)).resolves.toBeUndefined()
    writeFileSync(join(root, 'api', 'v1', 'a.bin'), Buffer.alloc(200_000, 8))
    await expect(store.verify(artifact, ctx)).rejects.toMatchObject({
      code: 'ARTIFACT_INTEGRITY',
      message: expect.stringMatching(
        new RegExp(`^\\[rolling:file\\] build v1 of api is corrupt: sha256 expected ${artifact.sha256} got ${sha(Buffer.alloc(200_000, 8))}`),
      ),
    })
    writeFileSync(join(root, 'api', 'v1', 'a.bin'), 'short')
    await expect(store.verify(artifact, ctx)).rejects.toThrow(/size expected 200000 bytes got 5/)
    rmSync(join(root, 'api', 'v1', 'a.bin'))
    await expect(store.verify(artifact, ctx)).rejects.toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
  })

  it('verifies the caller-held checksum, not only the manifest', async () => {
    const artifact = await store.publish('api', source('a.bin', 'real'), { version: 'v1' })
    await expect(store.verify({ ...artifact, sha256: sha('other') }, testContext())).rejects.toMatchObject({ code: 'ARTIFACT_INTEGRITY' })
  })

  it('names the missing build, and a service with nothing published', async () => {
    const ctx = testContext()
    await store.publish('api', source('a.bin', 'x'), { version: 'v1' })
    await expect(store.resolve('api', 'v9', ctx)).rejects.toMatchObject({
      code: 'ARTIFACT_NOT_FOUND',
      message: `[rolling:file] no build v9 of service api in ${root}`,
    })
    await expect(store.resolve('web', 'latest', ctx)).rejects.toMatchObject({
      code: 'ARTIFACT_NOT_FOUND',
      message: `[rolling:file] service web has no LATEST build in ${root} (nothing published yet)`,
    })
  })

  it('is idempotent for the same bytes and refuses to overwrite a version with other bytes', async () => {
    const first = await store.publish('api', source('a.bin', 'same'), { version: 'v1' })
    await store.publish('api', source('a.bin', 'newer'), { version: 'v2' })
    // Re-publishing v1 with the same bytes makes it the latest again (a rollback build).
    expect(await store.publish('api', source('a.bin', 'same'), { version: 'v1' })).toEqual(first)
    expect((await store.resolve('api', 'latest', testContext())).version).toBe('v1')
    await expect(store.publish('api', source('a.bin', 'different'), { version: 'v1' })).rejects.toMatchObject({
      code: 'ADAPTER',
      message: expect.stringContaining('build v1 of api already exists'),
    })
    expect(readFileSync(join(root, 'api', 'v1', 'a.bin'), 'utf8')).toBe('same')
    expect(readFileSync(join(root, 'api', 'LATEST'), 'utf8').trim()).toBe('v1')
  })

  it('rejects service, version and file names that could escape the folder or a command', async () => {
    const ctx = testContext()
    const file = source('a.bin', 'x')
    for (const bad of ['../etc', '..', 'a/b', 'a..b', '', '-rf', '.hidden', 'v1; rm -rf /', 'v$(id)', 'a b']) {
      await expect(store.publish('api', file, { version: bad })).rejects.toMatchObject({
        code: 'INVALID_OPTION',
        message: expect.stringContaining(`invalid version name ${JSON.stringify(bad)}`),
      })
      await expect(store.publish(bad, file, { version: 'v1' })).rejects.toThrow(`invalid service name ${JSON.stringify(bad)}`)
      await expect(store.resolve('api', bad, ctx)).rejects.toMatchObject({ code: 'INVALID_OPTION' })
    }
    await expect(store.publish('api', source('bad name.tgz', 'x'), { version: 'v1' })).rejects.toThrow(/invalid file name "bad name.tgz"/)
    expect(existsSync(join(root, 'api', 'v1'))).toBe(false)
  })

  it('reports a missing source file clearly and leaves nothing behind', async () => {
    await expect(store.publish('api', join(base, 'nope.tgz'), { version: 'v1' })).rejects.toThrow(/source file .*nope.tgz does not exist/)
    expect(readdirSync(join(root, 'api'))).toEqual([])
  })

  it('honours an aborted signal while reading', async () => {
    const artifact = await store.publish('api', source('a.bin', 'x'), { version: 'v1' })
    const ctx = testContext()
    const reason = new Error('stop')
    ctx.controller.abort(reason)
    await expect(store.verify(artifact, ctx)).rejects.toBe(reason)
    await expect(store.resolve('api', 'latest', ctx)).rejects.toBe(reason)
  })

  it('fails on a manifest that does not match its folder', async () => {
    await store.publish('api', source('a.bin', 'x'), { version: 'v1' })
    const path = join(root, 'api', 'v1', 'manifest.json')
    writeFileSync(path, JSON.stringify({ ...JSON.parse(readFileSync(path, 'utf8')), version: 'v2' }))
    await expect(store.resolve('api', 'v1', testContext())).rejects.toMatchObject({ code: 'ADAPTER', message: expect.stringContaining('manifest of build v1') })
  })
})
