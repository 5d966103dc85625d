// The AWS example as a person runs it: an AWS-shaped fleet (ELBv2 target group, SSM, S3 on
// loopback fakes) with v2 published, then the real `rolling` CLI in a child process with this
// folder's rollout.config.ts: `plan` touches nothing, `deploy` rolls every host to v2 under
// load with no failed request, `status` reads the finished journal.
import { spawn } from 'node:child_process'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { startLoadProcess } from '@org/rolling-local-fleet'
import { type AwsFleet, startAwsFleet } from '@org/rolling-local-fleet/aws'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { awsFleetEnv } from '../fleet-env.js'

const EXAMPLE = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const REPO = resolve(EXAMPLE, '../..')
const BIN = join(REPO, 'packages/cli/src/bin.ts')

interface CliRun {
  code: number | null
  stdout: string
  stderr: string
}

function cli(args: string[], env: Record<string, string>): Promise<CliRun> {
  const { NODE_OPTIONS: _, ...base } = process.env
  const child = spawn(process.execPath, ['--conditions=@org/source', '--import', 'tsx', BIN, ...args], {
    cwd: REPO,
    env: { ...base, ...env, CI: 'true', NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (c: Buffer) => (stdout += c))
  child.stderr.on('data', (c: Buffer) => (stderr += c))
  return new Promise((done, fail) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL')
      fail(new Error(`rolling ${args.join(' ')} did not exit within 90 s\n${stdout}\n${stderr}`))
    }, 90_000)
    child.once('exit', (code) => {
      clearTimeout(timer)
      done({ code, stdout, stderr })
    })
  })
}

describe('examples/aws: the rolling CLI with ELBv2, SSM and S3', () => {
  let fleet: AwsFleet
  let env: Record<string, string>
  let args: string[]
  beforeAll(async () => {
    fleet = await startAwsFleet({ size: 6 })
    await fleet.publish('v2')
    env = awsFleetEnv(fleet)
    args = ['--config', join(EXAMPLE, 'rollout.config.ts'), '--state-dir', fleet.stateDir]
  })
  afterAll(() => fleet?.stop())

  it('plans the batches and touches nothing', async () => {
    fleet.fakes.elbv2.resetCalls()
    const run = await cli(['plan', ...args], env)
    expect(run.code, run.stderr).toBe(0)
    expect(run.stdout).toContain('build v2')
    // A canary, then 34% of 6 rounded up = 3 (minHealthy 50% allows 3 out at once), then the rest.
    const batches = [...run.stdout.matchAll(/^ {2}batch \d+\/3: (.+)$/gm)].map((m) => (m[1] as string).split(', ').length)
    expect(batches).toEqual([1, 3, 2])
    expect(fleet.fakes.elbv2.count('DeregisterTargets')).toBe(0)
    expect(fleet.fakes.elbv2.count('RegisterTargets')).toBe(0)
    expect(fleet.fakes.ssm.count('SendCommand')).toBe(0)
  })

  it('deploys v2 to every host under load with no failed request, and status reads the journal', async () => {
    const load = await startLoadProcess(fleet.url, 50)
    let report: Awaited<ReturnType<typeof load.stop>>
    let run: CliRun
    try {
      await load.mark()
      run = await cli(['deploy', '--plain', ...args], env)
    } finally {
      report = await load.stop()
    }
    expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0)
    expect(run.stdout).toMatch(/succeeded/i)
    for (const host of fleet.hosts) {
      const status = (await (await fetch(`http://${host.target.address}:${host.target.port}/_status`)).json()) as { version: string }
      expect(status.version, host.id).toBe('v2')
    }
    expect(report.requests).toBeGreaterThan(100)
    expect(report.non2xx + report.errors, JSON.stringify(report)).toBe(0)
    // One Deregister and one Register call per batch: 3 batches.
    expect(fleet.fakes.elbv2.count('DeregisterTargets', { succeeded: true })).toBe(3)
    expect(fleet.fakes.elbv2.count('RegisterTargets', { succeeded: true })).toBe(3)

    const status = await cli(['status', ...args], env)
    expect(status.code, status.stderr).toBe(0)
    expect(status.stdout).toMatch(/succeeded|finished|complete/i)
    expect(status.stdout).toContain('v2')
  })
})
