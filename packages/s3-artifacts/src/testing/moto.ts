// moto's S3 on loopback: the S3 endpoint of the tests, through the real client-s3. It enforces
// what the state store and the publish race rely on: conditional writes (a second
// `If-None-Match: *` and a stale `If-Match` answer 412). moto is a Python package (moto 5.2.1
// with Flask ships in this project's CI image; it cannot be installed from npm): a missing
// moto makes `startMotoS3` throw, so a test that needs it fails, never skips.
import { type ChildProcess, execFileSync, spawn } from 'node:child_process'
import { createServer } from 'node:net'
import { CreateBucketCommand, S3Client, type S3ClientConfig } from '@aws-sdk/client-s3'
import { waitUntil } from '@org/rolling-core/adapter'

export interface MotoS3Options {
  /** Bucket created at start. @default 'builds' */
  bucket?: string
  /** Python interpreter with moto[server] installed. @default process.env.ROLLING_PYTHON ?? 'python3' */
  python?: string
  /** How long moto may take to answer. @default 20000 */
  startTimeoutMs?: number
}

export interface MotoS3 {
  /** `http://127.0.0.1:<port>` */
  endpoint: string
  bucket: string
  /** A client on this server, destroyed by `stop()`. */
  client: S3Client
  /** Config for more clients on this server (for stores that own their client). */
  clientConfig: S3ClientConfig & { endpoint: string; region: string }
  /** moto's process id (killed by `stop()`). */
  pid: number
  stop(): Promise<void>
}

const python = (options?: MotoS3Options) => options?.python ?? process.env.ROLLING_PYTHON ?? 'python3'

/** Why moto cannot run here, or undefined when it can (what `startMotoS3` throws with). */
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

/** The error for a python that cannot start moto (checked only then: the check costs a second). */
const notInstalled = (options: MotoS3Options, detail: string) =>
  new Error(`moto-s3: ${motoMissing(options) ?? detail}; the CI image ships moto 5.2.1 (python3 -m moto.server)`)

export async function startMotoS3(options: MotoS3Options = {}): Promise<MotoS3> {
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
    // It ended before answering, and not because the port was taken meanwhile: no python, no moto.
    const spawnFailed = () => exited !== undefined && !/address already in use/i.test(stderr)
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
      client.destroy()
      await kill(child)
      // Not a port clash: no interpreter, or no moto in it. Trying other ports would not help.
      if (spawnFailed()) throw notInstalled(options, `moto ${exited}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`)
      lastError = error
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
