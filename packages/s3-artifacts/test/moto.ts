// One moto S3 per test file (killed after it), with temp files to publish. Outside CI a machine
// without moto skips these tests with the reason; under CI=true `startMotoS3` throws instead.
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { type MotoS3, motoMissing, startMotoS3 } from '../src/testing.js'

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true'

/** Why moto tests skip here; always undefined under CI=true, where a missing moto fails them. */
export const motoSkip: string | undefined = process.env.CI === 'true' ? undefined : motoMissing()
if (motoSkip) console.warn(`[s3 tests] skipping moto tests: ${motoSkip}`)

export interface Moto extends MotoS3 {
  tempFile(bytes: Uint8Array, name?: string): Promise<string>
}

export async function startMoto(bucket = 'builds'): Promise<Moto> {
  const server = await startMotoS3({ bucket })
  const dir = await mkdtemp(join(tmpdir(), 'rolling-moto-'))
  let files = 0
  return {
    ...server,
    async tempFile(bytes, name) {
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
