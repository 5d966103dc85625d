// The shared ArtifactStore contract suite through the real client-s3 on moto (which enforces
// conditional writes, as S3 does).
import { randomBytes } from 'node:crypto'
import { GetObjectCommand, PutObjectCommand, type S3Client } from '@aws-sdk/client-s3'
import { testArtifactStore } from '@org/rolling-core/testing/contracts'
import { s3Artifacts } from '../src/index.js'
import { startMoto } from './moto.js'

interface Server {
  bucket: string
  client: S3Client
  tempFile(bytes: Uint8Array, name?: string): Promise<string>
  stop(): Promise<void>
}

function suite(name: string, start: () => Promise<Server>) {
  testArtifactStore({
    name,
    timeout: 15_000,
    setup: async () => {
      const s3 = await start()
      const store = s3Artifacts({ bucket: s3.bucket, prefix: 'contract/', client: s3.client })
      return {
        store,
        service: 'checkout',
        publish: async (version, bytes, builtAt) =>
          store.publish('checkout', await s3.tempFile(bytes, 'checkout.tar.gz'), { version, ...(builtAt ? { builtAt } : {}) }),
        // Overwrites the stored bytes behind the store's back, keeping the size.
        corrupt: async (artifact) => {
          const manifest = JSON.parse(
            (await (
              await s3.client.send(new GetObjectCommand({ Bucket: s3.bucket, Key: `contract/checkout/${artifact.version}/manifest.json` }))
            ).Body?.transformToString()) ?? '{}',
          ) as { key: string }
          await s3.client.send(new PutObjectCommand({ Bucket: s3.bucket, Key: manifest.key, Body: randomBytes(artifact.size) }))
        },
        teardown: () => s3.stop(),
      }
    },
  })
}

suite('s3 (moto)', () => startMoto())
