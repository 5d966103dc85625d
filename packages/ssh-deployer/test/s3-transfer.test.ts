// transfer 's3': the host copies the build from S3 with its own role (the AWS CLI), so no
// presigned URL is in any command, argv or SendCommand. The host is this machine through the
// local executor, its "instance role" the executor's env (credentials and the endpoint of a
// moto S3 on loopback): sshd resets PATH, and this machine's AWS CLI lives outside it.
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { RollingError, localExecutor, type DeployArgs, type ExecRequest } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { sampleArgv } from '@org/rolling-core/testing'
import { releaseRecipe } from '../src/index.js'
import { recorder } from './support.js'
import { freePort } from './sshd.js'

const run = promisify(execFile)
function execFileOk(cmd: string, args: string[]): boolean {
  try {
    execFileSync(cmd, args, { stdio: 'ignore', timeout: 20_000 })
    return true
  } catch {
    return false
  }
}
const haveTools = execFileOk('aws', ['--version']) && execFileOk('python3', ['-c', 'import moto'])
// CI installs both (.ci/run): there the test must run, not skip.
const skip = !haveTools && process.env.CI !== 'true'

describe.skipIf(skip)("releaseRecipe transfer 's3' (AWS CLI + moto S3 on loopback)", () => {
  let moto: ChildProcess
  let dir: string
  let endpoint: string
  const env = () => ({ ...process.env, AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' })
  beforeAll(async () => {
    const port = await freePort()
    endpoint = `http://127.0.0.1:${port}`
    moto = spawn('python3', ['-m', 'moto.server', '-H', '127.0.0.1', '-p', String(port)], { stdio: 'ignore' })
    await waitUntil(
      async () =>
        (await fetch(endpoint).then(
          () => true,
          () => false,
        ))
          ? { state: 'done', value: true }
          : { state: 'retry' },
      { what: 'moto to listen', timeoutMs: 20_000, minDelayMs: 100, maxDelayMs: 200 },
    )
    dir = await mkdtemp(join(tmpdir(), 'rolling-ssh-s3-'))
  }, 60_000)
  afterAll(async () => {
    moto?.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  })

  it('installs the build copied with the host role; no command carries a URL or a signature', async () => {
    const stage = join(dir, 'stage')
    await mkdir(stage)
    await writeFile(join(stage, 'app.txt'), 'app 3.0.0\n')
    const file = join(dir, 'app.tgz')
    await run('tar', ['-czf', file, '-C', stage, 'app.txt'])
    const bytes = await readFile(file)
    const sha256 = createHash('sha256').update(bytes).digest('hex')
    await run('aws', ['s3', 'mb', 's3://builds'], { env: env() })
    await run('aws', ['s3', 'cp', file, 's3://builds/app/3.0.0/app.tgz'], { env: env() })

    const executor = localExecutor({
      env: () => ({ AWS_ENDPOINT_URL: endpoint, AWS_ACCESS_KEY_ID: 'test', AWS_SECRET_ACCESS_KEY: 'test', AWS_DEFAULT_REGION: 'us-east-1' }),
    })
    const target = { id: 'web-1', address: '127.0.0.1' }
    const sent: ExecRequest[] = []
    const { ctx } = recorder()
    const exec: DeployArgs['exec'] = async (request) => {
      const req = typeof request === 'string' ? { command: request } : request
      sent.push(req)
      const result = await executor.run(target, req, ctx)
      if (result.exitCode !== 0) throw new RollingError('EXEC_FAILED', `exit ${result.exitCode}: ${result.stderr.trim()}`)
      return result
    }
    const root = join(dir, 'srv')
    await mkdir(root)
    const url = `${endpoint}/builds/app/3.0.0/app.tgz?X-Amz-Signature=never-used`
    const sampler = sampleArgv()
    await releaseRecipe({ root, transfer: 's3', restart: 'true' }).deploy({
      target,
      artifact: { service: 'app', version: '3.0.0', builtAt: new Date().toISOString(), sha256, size: bytes.length },
      location: { kind: 'url', url, sha256, size: bytes.length, s3: { bucket: 'builds', key: 'app/3.0.0/app.tgz' } },
      run: (request) => executor.run(target, request, ctx),
      exec,
      signal: ctx.signal,
      clock: ctx.clock,
      log: ctx.log,
      ctx,
    })
    await sampler.stop()
    expect(await readFile(join(root, 'current', 'app.txt'), 'utf8')).toBe('app 3.0.0\n')
    expect([...sampler.seen].filter((l) => l.includes('X-Amz-Signature'))).toEqual([])
    const commands = sent.map((r) => r.command).join('\n')
    expect(commands).toContain('aws s3 cp')
    expect(commands).not.toContain('X-Amz-Signature')
    expect(commands).not.toContain(url)
  }, 60_000)

  it('refuses a location without an S3 object, naming the transfer', async () => {
    const { ctx } = recorder()
    const executor = localExecutor()
    const target = { id: 'web-1', address: '127.0.0.1' }
    await mkdir(join(dir, 'srv2'))
    const error = await releaseRecipe({ root: join(dir, 'srv2'), transfer: 's3', restart: 'true' })
      .deploy({
        target,
        artifact: { service: 'app', version: '1.0.0', builtAt: '', sha256: 'a'.repeat(64), size: 1 },
        location: { kind: 'url', url: `${endpoint}/x`, sha256: 'a'.repeat(64), size: 1 },
        run: (request) => executor.run(target, request, ctx),
        exec: (request) => executor.run(target, request, ctx),
        signal: ctx.signal,
        clock: ctx.clock,
        log: ctx.log,
        ctx,
      })
      .catch((e: unknown) => e)
    expect(String(error)).toMatch(/transfer 's3' needs an S3 object/)
  })
})
