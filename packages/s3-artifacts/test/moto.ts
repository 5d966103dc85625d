// One moto S3 per test file (stopped after it), with temp files to publish. moto is required:
// without it `startMotoS3` throws and the tests that need it fail, naming what is missing.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MotoS3, startMotoS3 } from '../src/testing.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

export interface Moto extends MotoS3 {
  /** Writes `bytes` to a temp file (named `name`) and returns its path. */
  tempFile(bytes: Uint8Array, name?: string): Promise<string>
}

export async function startMoto(bucket = 'builds'): Promise<Moto> {
  const server = await startMotoS3({ bucket })
  const dir = await mkdtemp(join(tmpdir(), 'rolling-moto-'))
  let files = 0
  return {
    ...server,
    async tempFile(bytes, name) {
      // One folder per file, so the file keeps the name the caller gave.
      const folder = join(dir, String(files++))
      await mkdir(folder, { recursive: true })
      const path = join(folder, name ?? `build-${randomBytes(4).toString('hex')}.tar.gz`)
      await writeFile(path, bytes)
      return path
    },
    async stop() {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
