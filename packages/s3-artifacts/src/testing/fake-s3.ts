// A real fake S3 for tests: s3rver on loopback (an ephemeral port, a temp folder), a bucket,
// and client config for the real client-s3 with the settings s3rver needs. s3rver is an
// optional peer dependency: only this entry loads it, never the store itself.
import { mkdtemp, rm } from 'node:fs/promises'
import { createRequire } from 'node:module'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'

export interface FakeS3Options {
  /** Bucket created at start. @default 'builds' */
  bucket?: string
  /** Loopback address to listen on. @default '127.0.0.1' */
  address?: string
  /** Folder s3rver stores objects in; a temp folder, removed by `stop()`, when not given. @default a new temp folder */
  dir?: string
}

export interface FakeS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  bucket: string
  /** A client on this server, destroyed by `stop()`. */
  client: S3Client
  /** Config for more clients on this server (for stores that own their client). */
  clientConfig: S3ClientConfig & { endpoint: string }
  /** Where s3rver keeps its files. */
  dir: string
  stop(): Promise<void>
}

/** Only what is used here; s3rver 3.7.1 ships no types. */
interface S3rverServer {
  run(): Promise<AddressInfo>
  close(): Promise<void>
}
type S3rverClass = new (options: { address: string; port: number; directory: string; silent: boolean; configureBuckets: { name: string }[] }) => S3rverServer

export async function startFakeS3(options: FakeS3Options = {}): Promise<FakeS3> {
  const bucket = options.bucket ?? 'builds'
  const address = options.address ?? '127.0.0.1'
  if (!/^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(address))
    throw new RangeError(`fake-s3: address must be a loopback IPv4 address, got ${JSON.stringify(address)}`)
  // s3rver is CommonJS: required here so the store's own entry never depends on it.
  let S3rver: S3rverClass
  try {
    S3rver = createRequire(import.meta.url)('s3rver') as S3rverClass
  } catch (error) {
    throw new Error(`fake-s3: cannot load s3rver (install s3rver@3.7.1 next to @org/rolling-s3 to use @org/rolling-s3/testing): ${(error as Error).message}`, {
      cause: error,
    })
  }
  const owned = options.dir === undefined
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), 'rolling-s3-')))
  const server = new S3rver({ address, port: 0, directory: join(dir, 'store'), silent: true, configureBuckets: [{ name: bucket }] })
  const { port } = await server.run()
  const endpoint = `http://${address}:${port}`
  const clientConfig = {
    endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    // Without it a streaming PutObject is stored with its aws-chunked framing inside the object.
    requestChecksumCalculation: 'WHEN_REQUIRED' as const,
    responseChecksumValidation: 'WHEN_REQUIRED' as const,
  }
  const client = new S3Client(clientConfig)
  return {
    endpoint,
    bucket,
    client,
    clientConfig,
    dir,
    async stop() {
      client.destroy()
      await server.close()
      if (owned) await rm(dir, { recursive: true, force: true })
    },
  }
}
