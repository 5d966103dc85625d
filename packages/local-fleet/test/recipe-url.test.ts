// The recipe given a URL, as the S3 store's presigned URLs are: the host downloads the build
// itself (curl, or node's fetch on hosts without curl), checks its sha256 there, and only then
// unpacks it; a bad download leaves nothing behind, and the URL (a credential) is declared secret.
import { existsSync, readFileSync, readdirSync } from 'node:fs'
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { localExecutor, type Artifact, type ArtifactLocation, type DeployArgs, type ExecRequest, type Target } from '@org/rolling-core'
import { s3Artifacts, type S3ArtifactStore } from '@org/rolling-s3'
import { startMotoS3, type MotoS3 } from '@org/rolling-s3/testing'
import { buildRelease, fleetRecipe } from '../src/index.js'
import { context, stepArgsWith } from './support.js'

let root: string
let s3: MotoS3
let store: S3ArtifactStore
/** S3's check of a presigned URL's expiry, which moto lacks, in front of moto: see `expiring`. */
let gate: Server
let gateUrl: string
let v2: Artifact
const target: Target = { id: 'host-1', address: '127.0.0.2' }

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rolling-recipe-url-'))
  s3 = await startMotoS3()
  store = s3Artifacts({ bucket: s3.bucket, clientConfig: s3.clientConfig })
  gate = await expiring(s3.endpoint)
  gateUrl = `http://127.0.0.1:${(gate.address() as AddressInfo).port}`
  const release = await buildRelease({ dir: join(root, 'builds'), version: 'v2' })
  v2 = await store.publish('app', release.file, { version: 'v2', builtAt: release.builtAt })
})
afterAll(async () => {
  gate?.close()
  store?.destroy()
  await s3?.stop()
  await rm(root, { recursive: true, force: true })
})

/**
 * An HTTP server that answers a presigned GET as S3 does once `X-Amz-Date` + `X-Amz-Expires`
 * has passed (403 AccessDenied, "Request has expired"), and forwards the others to moto, which
 * checks neither the signature nor the expiry of presigned URLs.
 */
async function expiring(endpoint: string): Promise<Server> {
  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', endpoint)
    const date = /^(\d{4})(\d\d)(\d\d)T(\d\d)(\d\d)(\d\d)Z$/.exec(url.searchParams.get('X-Amz-Date') ?? '')
    const signedAt = date ? Date.UTC(+date[1]!, +date[2]! - 1, +date[3]!, +date[4]!, +date[5]!, +date[6]!) : Number.NaN
    if (!(signedAt + Number(url.searchParams.get('X-Amz-Expires')) * 1000 > Date.now())) {
      res.writeHead(403, { 'content-type': 'application/xml' })
      res.end('<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>')
      return
    }
    fetch(url).then(
      async (answer) => {
        res.writeHead(answer.status, { 'content-type': answer.headers.get('content-type') ?? 'application/octet-stream' })
        res.end(Buffer.from(await answer.arrayBuffer()))
      },
      () => {
        res.writeHead(502)
        res.end()
      },
    )
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return server
}

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
      // Signed in 2020 for 15 minutes: long expired. Through the gate that checks expiry as S3 does.
      const expired = { ...location, url: location.url.replace(s3.endpoint, gateUrl).replace(/X-Amz-Date=\d{8}T\d{6}Z/, 'X-Amz-Date=20200101T000000Z') }
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
