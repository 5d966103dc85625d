// The recipe given a URL, as the S3 store's presigned URLs are: the host downloads the build
// itself (curl, or node's fetch on hosts without curl), checks its sha256 there, and only then
// unpacks it; a bad download leaves nothing behind, and the URL (a credential) is declared secret.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localExecutor, type Artifact, type ArtifactLocation, type DeployArgs, type ExecRequest, type Target } from '@org/rolling-core'
import { s3Artifacts, type S3ArtifactStore } from '@org/rolling-s3'
import { startFakeS3, type FakeS3 } from '@org/rolling-s3/testing'
import { buildRelease, fleetRecipe } from '../src/index.js'
import { context, stepArgsWith } from './support.js'

let root: string
let s3: FakeS3
let store: S3ArtifactStore
let v2: Artifact
const target: Target = { id: 'host-1', address: '127.0.0.2' }

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rolling-recipe-url-'))
  s3 = await startFakeS3()
  store = s3Artifacts({ bucket: s3.bucket, clientConfig: s3.clientConfig })
  const release = await buildRelease({ dir: join(root, 'builds'), version: 'v2' })
  v2 = await store.publish('app', release.file, { version: 'v2', builtAt: release.builtAt })
})
afterAll(async () => {
  store?.destroy()
  await s3?.stop()
  await rm(root, { recursive: true, force: true })
})

/** A host folder, and the prepare step run in it through the local executor; records each request. */
async function prepareOn(name: string, download: 'curl' | 'node', location: ArtifactLocation) {
  const dir = join(root, 'hosts', name)
  await mkdir(dir, { recursive: true })
  // A clean environment as on a host: no test-runner loaders in NODE_OPTIONS for `node`.
  const executor = localExecutor({ cwd: () => dir, env: () => ({ NODE_OPTIONS: '' }) })
  const requests: (string | ExecRequest)[] = []
  const ctx = context()
  const run = (request: string | ExecRequest) => {
    requests.push(request)
    return executor.run(target, request, ctx)
  }
  const args: DeployArgs = { ...stepArgsWith(run, target, v2, ctx), location }
  const error = await fleetRecipe({ download, downloadTimeoutMs: 10_000 })
    .prepare?.(args)
    .then(
      () => undefined,
      (e: unknown) => e as Error,
    )
  return { dir, error, requests }
}

describe('fleet recipe with a URL location', () => {
  for (const download of ['curl', 'node'] as const) {
    it(`downloads the build with ${download}, checks its sha256 and unpacks it; the URL is a secret of the command`, async () => {
      const location = await store.locate(v2, target, context())
      expect(location.kind).toBe('url')
      if (location.kind !== 'url') return
      const { dir, error, requests } = await prepareOn(`ok-${download}`, download, location)
      expect(error).toBeUndefined()
      expect(JSON.parse(readFileSync(join(dir, 'releases', 'v2', 'release.json'), 'utf8'))).toMatchObject({ version: 'v2', builtAt: v2.builtAt })
      expect(existsSync(join(dir, 'releases', 'v2', 'app.mjs'))).toBe(true)
      // Nothing left of the download but the release.
      expect(readdirSync(join(dir, 'releases'))).toEqual(['v2'])
      expect(requests).toEqual([expect.objectContaining({ secrets: [location.url] })])
      expect((requests[0] as ExecRequest).command).toContain(download === 'curl' ? 'curl -fsS' : 'node --input-type=module')
    })

    it(`refuses a download whose sha256 does not match (${download}), leaving no release`, async () => {
      const location = await store.locate(v2, target, context())
      const wrong = { ...location, sha256: 'f'.repeat(64) }
      const { dir, error } = await prepareOn(`bad-sha-${download}`, download, wrong)
      expect(String(error)).toContain(`sha256 mismatch for 'the download of v2': expected ${'f'.repeat(64)}, got ${v2.sha256}`)
      expect(readdirSync(join(dir, 'releases'))).toEqual([])
    })

    it(`fails on an expired URL (${download}): S3's 403 is reported, the signature never`, async () => {
      const location = await store.locate(v2, target, context())
      if (location.kind !== 'url') throw new Error('expected a URL')
      const signature = /X-Amz-Signature=([0-9a-f]+)/.exec(location.url)?.[1] ?? ''
      expect(signature).not.toBe('')
      // Signed in 2020 for 15 minutes: long expired (s3rver checks the expiry of V4 URLs, not their signature).
      const expired = { ...location, url: location.url.replace(/X-Amz-Date=\d{8}T\d{6}Z/, 'X-Amz-Date=20200101T000000Z') }
      expect(expired.url).not.toBe(location.url)
      const { dir, error } = await prepareOn(`expired-${download}`, download, expired)
      expect(String(error)).toMatch(download === 'curl' ? /error: 403/ : /download failed: HTTP 403/)
      expect(String(error)).not.toContain(signature)
      expect(readdirSync(join(dir, 'releases'))).toEqual([])
    })
  }

  it('refuses an unknown download method, naming the option', () => {
    expect(() => fleetRecipe({ download: 'wget' as never })).toThrow(/`download`: expected 'auto', 'curl' or 'node', got "wget"/)
    expect(() => fleetRecipe({ downloadTimeoutMs: 0 })).toThrow(/`downloadTimeoutMs`: expected a finite number of milliseconds >= 1, got 0/)
  })
})
