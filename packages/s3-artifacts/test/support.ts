// A real s3rver on loopback (ephemeral port, temp directory) and the real client-s3
// pointed at it, from `@org/rolling-s3/testing`, plus temp files to publish.
import { randomBytes } from 'node:crypto'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { startFakeS3 as startServer, type FakeS3 as Server } from '../src/testing.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export interface FakeS3 extends Server {
  /** Writes `bytes` to a temp file and returns its path. */
  tempFile(bytes: Uint8Array, name?: string): Promise<string>
}

export async function startFakeS3(bucket = 'builds'): Promise<FakeS3> {
  const server = await startServer({ bucket })
  let files = 0
  return {
    ...server,
    async tempFile(bytes, name) {
      // One folder per file, so the file keeps the name the caller gave.
      const folder = join(server.dir, 'files', String(files++))
      await mkdir(folder, { recursive: true })
      const path = join(folder, name ?? `build-${randomBytes(4).toString('hex')}.tar.gz`)
      await writeFile(path, bytes)
      return path
    },
  }
}
