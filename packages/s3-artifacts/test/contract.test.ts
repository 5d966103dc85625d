// The shared ArtifactStore contract suite, run against a real s3rver through client-s3.
import { randomBytes } from 'node:crypto'
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3'
import { testArtifactStore } from '@org/rolling-core/testing'
import { s3Artifacts } from '../src/index.js'
import { startFakeS3 } from './support.js'

testArtifactStore({
  name: 's3',
  timeout: 15_000,
  setup: async () => {
    const s3 = await startFakeS3()
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
