// moto's S3 on loopback, for tests that need S3 semantics s3rver lacks: conditional writes
// (`If-None-Match: *` and a stale `If-Match` answer 412). moto is a Python package that ships in
// this project's CI image; it cannot be installed from here, so a missing moto is an error
// under CI=true and a reason to skip elsewhere (see `motoMissing`).
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { CreateBucketCommand, S3Client } from '@aws-sdk/client-s3'
import { waitUntil } from '@org/rolling-core'
import type { FakeS3 } from './fake-s3.js'

export interface MotoS3Options {
  /** Bucket created at start. @default 'builds' */
  bucket?: string
  /** Python interpreter with moto[server] installed. @default process.env.ROLLING_PYTHON ?? 'python3' */
  python?: string
  /** How long moto may take to answer. @default 20000 */
  startTimeoutMs?: number
}

export interface MotoS3 extends Omit<FakeS3, 'dir'> {
  /** moto's process id (the test kills it in `stop()`). */
  pid: number
}

const python = (options?: MotoS3Options) => options?.python ?? process.env.ROLLING_PYTHON ?? 'python3'

/**
 * Why moto cannot run here, or undefined when it can. Tests skip with this reason outside CI;
 * under CI=true `startMotoS3` throws it instead, so a missing moto never passes as a skip.
 */
export function motoMissing(options?: MotoS3Options): string | undefined {
  try {
    execFileSync(python(options), ['-c', 'import moto.server, flask'], { stdio: 'pipe', timeout: 20_000 })
    return undefined
  } catch (error) {
    return `moto is not installed for ${python(options)} (python3 -c 'import moto.server, flask' failed: ${(error as Error).message.split('\n')[0]})`
  }
}

/** A port the OS says is free now; moto binds it a moment later (a clash is retried). */
async function freePort(): Promise<number> {
  return await new Promise((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

export async function startMotoS3(options: MotoS3Options = {}): Promise<MotoS3> {
  const missing = motoMissing(options)
  if (missing) throw new Error(`moto-s3: ${missing}; the CI image ships moto 5.2.1 (python3 -m moto.server)`)
  const bucket = options.bucket ?? 'builds'
  let lastError: unknown
  // Another process may take the port between freePort() and moto's bind: try a few ports.
  for (let attempt = 0; attempt < 3; attempt++) {
    const port = await freePort()
    const child = spawn(python(options), ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, PYTHONUNBUFFERED: '1' },
    })
    let stderr = ''
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000)
    })
    let exited: string | undefined
    child.once('exit', (code, signal) => {
      exited = `exited with ${signal ?? code}`
    })
    child.once('error', (error) => {
      exited = error.message
    })
    const endpoint = `http://127.0.0.1:${port}`
    const clientConfig = {
      endpoint,
      region: 'us-east-1',
      forcePathStyle: true,
      credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' },
      requestChecksumCalculation: 'WHEN_REQUIRED' as const,
      responseChecksumValidation: 'WHEN_REQUIRED' as const,
    }
    const client = new S3Client(clientConfig)
    try {
      await waitUntil(
        async () => {
          if (exited) return { state: 'fail', reason: `moto ${exited}: ${stderr.trim().split('\n').slice(-3).join(' | ')}` }
          try {
            await client.send(new CreateBucketCommand({ Bucket: bucket }))
            return { state: 'done', value: undefined }
          } catch (error) {
            return { state: 'retry', observed: (error as Error).message }
          }
        },
        { what: `moto on ${endpoint} to create bucket ${bucket}`, timeoutMs: options.startTimeoutMs ?? 20_000, minDelayMs: 100, maxDelayMs: 500 },
      )
    } catch (error) {
      lastError = error
      client.destroy()
      await kill(child)
      continue
    }
    return {
      endpoint,
      bucket,
      client,
      clientConfig,
      pid: child.pid ?? -1,
      async stop() {
        client.destroy()
        await kill(child)
      },
    }
  }
  throw lastError
}

/** SIGTERM, then SIGKILL after 3 s; resolves once the process is gone (Node reaps its own child). */
async function kill(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => {
    const force = setTimeout(() => child.kill('SIGKILL'), 3000)
    child.once('exit', () => {
      clearTimeout(force)
      resolve()
    })
    child.kill('SIGTERM')
  })
}
