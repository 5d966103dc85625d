// A real s3rver on loopback (ephemeral port, temp directory) and the real client-s3
// pointed at it, as TOOLCHAIN.md describes for the fake S3.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { S3Client } from '@aws-sdk/client-s3'
import S3rver from 's3rver'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export interface FakeS3 {
  endpoint: string
  bucket: string
  client: S3Client
  /** A fresh client on the same server (for stores that own their client). */
  clientConfig: ConstructorParameters<typeof S3Client>[0] & object
  /** Writes `bytes` to a temp file and returns its path. */
  tempFile(bytes: Uint8Array, name?: string): Promise<string>
  stop(): Promise<void>
}

export async function startFakeS3(bucket = 'builds'): Promise<FakeS3> {
  const dir = await mkdtemp(join(tmpdir(), 'rolling-s3-'))
  const server = new S3rver({ address: '127.0.0.1', port: 0, directory: join(dir, 'store'), silent: true, configureBuckets: [{ name: bucket }] })
  const { port } = await server.run()
  const endpoint = `http://127.0.0.1:${port}`
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
  let files = 0
  return {
    endpoint,
    bucket,
    client,
    clientConfig,
    async tempFile(bytes, name) {
      // One folder per file, so the file keeps the name the caller gave.
      const folder = join(dir, 'files', String(files++))
      await mkdir(folder, { recursive: true })
      const path = join(folder, name ?? `build-${randomBytes(4).toString('hex')}.tar.gz`)
      await writeFile(path, bytes)
      return path
    },
    async stop() {
      client.destroy()
      await server.close()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
