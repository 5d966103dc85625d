// Behaviour particular to SSM, against the fake endpoint: one SendCommand per batch,
// exit codes, the 24,000-character cap, timeouts and aborts that kill the remote process,
// InvalidInstanceId in a batch, and throttling.
import type { SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { ssmExecutor, type SsmExecutor } from '../src/index.js'
import { type Fleet, isAlive, recordingContext, rejectionOf, startFleet } from './support.js'

let fleet: Fleet
let client: SSMClient
beforeAll(async () => {
  fleet = await startFleet(60)
  // The SDK's own retries off, so the executor's throttling backoff is what is measured.
  client = fleet.fake.client({ maxAttempts: 1 })
})
afterAll(async () => {
  client.destroy()
  await fleet.stop()
})
afterEach(() => {
  fleet.fake.throttleRate = 0
})

const executor = (options: Parameters<typeof ssmExecutor>[0] = {}): SsmExecutor => ssmExecutor({ client, pollMs: 20, maxPollMs: 100, ...options })
const sendCommands = (since: number) => fleet.fake.calls.slice(since).filter((c) => c.action === 'SendCommand' && !c.throttled)

describe('batching', () => {
  it('sends one SendCommand for concurrent runs of one command on 10 instances', async () => {
    const ssm = executor()
    const since = fleet.fake.calls.length
    const targets = fleet.targets.slice(0, 10)
    const results = await Promise.all(targets.map((t) => ssm.run(t, 'basename "$PWD"', recordingContext().ctx)))
    const sends = sendCommands(since)
    expect(sends).toHaveLength(1)
    expect(sends[0]!.input.InstanceIds).toEqual(targets.map((t) => t.labels!.instanceId))
    expect(sends[0]!.input.Parameters).toMatchObject({ commands: ['basename "$PWD"'], executionTimeout: ['3600'] })
    expect(new Set(results.map((r) => r.commandId)).size).toBe(1)
    results.forEach((r, i) => {
      expect(r.exitCode).toBe(0)
      expect(r.stdout).toMatch(new RegExp(`^host${i + 1}-`))
    })
    const polls = fleet.fake.calls.slice(since).filter((c) => c.action === 'GetCommandInvocation').length
    console.log(`10 instances: ${sends.length} SendCommand, ${polls} GetCommandInvocation`)
  })

  it('splits 60 instances into SendCommands of 50 and 10', async () => {
    const ssm = executor()
    const since = fleet.fake.calls.length
    const results = await Promise.all(fleet.targets.map((t) => ssm.run(t, 'echo ok', recordingContext().ctx)))
    expect(results.every((r) => r.exitCode === 0 && r.stdout === 'ok\n')).toBe(true)
    const sizes = sendCommands(since).map((c) => (c.input.InstanceIds as string[]).length)
    expect(sizes.sort((a, b) => b - a)).toEqual([50, 10])
    const polls = fleet.fake.calls.slice(since).filter((c) => c.action === 'GetCommandInvocation').length
    console.log(`60 instances: ${sizes.length} SendCommand, ${polls} GetCommandInvocation`)
  })

  it('does not merge different commands, nor two runs on the same instance', async () => {
    const ssm = executor()
    const since = fleet.fake.calls.length
    const [a, b] = fleet.targets as [NonNullable<Fleet['targets'][0]>, NonNullable<Fleet['targets'][0]>]
    const run = (t: typeof a, command: string) => ssm.run(t, command, recordingContext().ctx)
    // 'echo two' goes to a and b in one command; 'echo one' twice on a needs two commands.
    const results = await Promise.all([run(a, 'echo one'), run(b, 'echo two'), run(a, 'echo two'), run(a, 'echo one')])
    expect(results.map((r) => r.stdout)).toEqual(['one\n', 'two\n', 'two\n', 'one\n'])
    expect(
      sendCommands(since)
        .map((c) => (c.input.InstanceIds as string[]).length)
        .sort(),
    ).toEqual([1, 1, 2])
    expect(sendCommands(since)).toHaveLength(3)
  })

  it('fails only the unknown instance of a batch (InvalidInstanceId)', async () => {
    const ssm = executor()
    const good = fleet.targets[0]!
    const bad = { id: 'ghost', address: '10.0.0.9', labels: { instanceId: 'i-0000000000000dead' } }
    const [ok, failed] = await Promise.allSettled([ssm.run(good, 'echo fine', recordingContext().ctx), ssm.run(bad, 'echo fine', recordingContext().ctx)])
    expect(ok).toMatchObject({ status: 'fulfilled', value: { stdout: 'fine\n' } })
    expect(failed.status).toBe('rejected')
    const reason = (failed as PromiseRejectedResult).reason as Error & { code: string }
    expect(reason.code).toBe('ADAPTER')
    expect(reason.message).toContain('i-0000000000000dead')
    expect(reason.message).toContain('is not in a valid state')
  })
})

describe('results', () => {
  it('resolves non-zero exit codes with stdout and stderr, replayed through ctx.output', async () => {
    const rec = recordingContext()
    const result = await executor().run(fleet.targets[1]!, 'echo out; echo err >&2; exit 7', rec.ctx)
    expect(result).toMatchObject({ exitCode: 7, signal: null, stdout: 'out\n', stderr: 'err\n', status: 'Failed' })
    expect(rec.output).toEqual([
      { stream: 'stdout', chunk: 'out\n' },
      { stream: 'stderr', chunk: 'err\n' },
    ])
  })

  it('runs in request.cwd through the workingDirectory parameter', async () => {
    const result = await executor().run(fleet.targets[0]!, { command: 'pwd', cwd: fleet.root }, recordingContext().ctx)
    expect(result.stdout.trim()).toBe(fleet.root)
  })

  it('warns when SSM cut the output at 24,000 characters', async () => {
    const rec = recordingContext()
    const result = await executor().run(fleet.targets[2]!, "head -c 30000 /dev/zero | tr '\\0' x", rec.ctx)
    expect(result.stdout).toHaveLength(24_000)
    expect(result.truncated).toEqual({ stdout: true, stderr: false })
    expect(result.note).toContain('first 24,000 characters')
    expect(result.note).toContain('outputS3')
    expect(rec.warnings.join('\n')).toContain('SSM truncated stdout')
  })

  it('passes outputS3 to SendCommand and points at the full output', async () => {
    const rec = recordingContext()
    const since = fleet.fake.calls.length
    const ssm = executor({ outputS3: { bucket: 'ssm-logs', prefix: 'rolling/' } })
    const result = await ssm.run(fleet.targets[3]!, "head -c 25000 /dev/zero | tr '\\0' y >&2", rec.ctx)
    expect(sendCommands(since)[0]!.input).toMatchObject({ OutputS3BucketName: 'ssm-logs', OutputS3KeyPrefix: 'rolling/' })
    expect(result.truncated).toEqual({ stdout: false, stderr: true })
    expect(result.note).toMatch(/full output is in https:\/\/s3\.us-east-1\.amazonaws\.com\/ssm-logs\/rolling\//)
    expect(rec.warnings).toHaveLength(1)
  })

  it('masks secrets in results and output', async () => {
    const rec = recordingContext()
    const result = await executor().run(fleet.targets[0]!, { command: 'echo token=hunter2', secrets: ['hunter2'] }, rec.ctx)
    expect(result.stdout).toBe('token=***\n')
    expect(JSON.stringify(rec.output)).not.toContain('hunter2')
  })
})

describe('stopping', () => {
  it('timeoutMs rejects with EXEC_TIMEOUT, cancels the invocation and kills the process', async () => {
    const since = fleet.fake.calls.length
    const started = performance.now()
    const error = await rejectionOf(executor().run(fleet.targets[4]!, { command: 'sleep 30', timeoutMs: 600 }, recordingContext().ctx))
    expect(error.code).toBe('EXEC_TIMEOUT')
    expect(performance.now() - started).toBeGreaterThanOrEqual(550)
    const send = sendCommands(since)[0]!
    expect(send.input.Parameters).toMatchObject({ executionTimeout: ['1'] })
    const cancels = fleet.fake.calls.slice(since).filter((c) => c.action === 'CancelCommand')
    expect(cancels).toHaveLength(1)
    const inv = fleet.fake.invocations().find((i) => i.instanceId === fleet.targets[4]!.labels!.instanceId && i.killedBy)!
    await inv.exited
    expect(inv.killedBy).toBe('cancel')
    expect(isAlive(inv.pid!)).toBe(false)
  })

  it('an execution timed out by SSM itself rejects with EXEC_TIMEOUT', async () => {
    const error = await rejectionOf(executor({ executionTimeoutSec: 1 }).run(fleet.targets[5]!, 'sleep 30', recordingContext().ctx))
    expect(error.code).toBe('EXEC_TIMEOUT')
    expect(error.message).toContain('ExecutionTimedOut')
  })

  it('abort sends CancelCommand for that instance only, kills the process and rejects with the reason', async () => {
    const since = fleet.fake.calls.length
    const controller = new AbortController()
    const reason = new Error('operator stop')
    const ssm = executor()
    const [a, b] = [fleet.targets[6]!, fleet.targets[7]!]
    const other = ssm.run(b, 'sleep 1; echo survived', recordingContext().ctx)
    const pending = ssm.run(a, 'sleep 1; echo survived', recordingContext({ signal: controller.signal }).ctx)
    await new Promise((resolve) => setTimeout(resolve, 300))
    controller.abort(reason)
    expect(await rejectionOf(pending)).toBe(reason)
    const send = sendCommands(since)
    expect(send).toHaveLength(1)
    const cancels = fleet.fake.calls.slice(since).filter((c) => c.action === 'CancelCommand')
    const survivor = await other
    // Both runs shared one command; only the aborted instance is cancelled.
    expect(cancels.map((c) => c.input)).toEqual([{ CommandId: survivor.commandId, InstanceIds: [a.labels!.instanceId] }])
    expect(survivor.stdout).toBe('survived\n')
    const inv = fleet.fake.invocation(survivor.commandId, a.labels!.instanceId!)!
    await inv.exited
    expect(inv).toMatchObject({ killedBy: 'cancel', status: 'Cancelled' })
    expect(isAlive(inv.pid!)).toBe(false)
  })

  it('abort while waiting for the batch window sends nothing', async () => {
    const since = fleet.fake.calls.length
    const controller = new AbortController()
    const pending = executor({ batchWindowMs: 200 }).run(fleet.targets[8]!, 'echo never', recordingContext({ signal: controller.signal }).ctx)
    controller.abort(new Error('early'))
    await expect(pending).rejects.toThrow('early')
    await new Promise((resolve) => setTimeout(resolve, 300))
    expect(sendCommands(since)).toHaveLength(0)
  })
})

describe('throttling', () => {
  it('tries a throttled call throttleRetries + 1 times, whatever the client retries itself', async () => {
    // One retry policy: the client's own maxAttempts (5) does not multiply the executor's.
    const retrying = fleet.fake.client({ maxAttempts: 5 })
    try {
      fleet.fake.throttleRate = 1
      const since = fleet.fake.calls.length
      const ssm = ssmExecutor({ client: retrying, pollMs: 20, throttleBaseMs: 1, throttleMaxMs: 5, throttleRetries: 2 })
      const error = await rejectionOf(ssm.run(fleet.targets[0]!, 'echo never', recordingContext().ctx))
      expect(error.message).toMatch(/SendCommand .* failed: Rate exceeded/)
      expect(fleet.fake.calls.slice(since).filter((c) => c.action === 'SendCommand')).toHaveLength(3)
    } finally {
      retrying.destroy()
    }
  })

  it('completes 40 runs while 30% of calls are throttled', async () => {
    fleet.fake.throttleRate = 0.3
    const since = fleet.fake.calls.length
    const ssm = executor({ throttleBaseMs: 20, throttleMaxMs: 500, throttleRetries: 12 })
    // Four commands, ten instances each: four batches.
    const runs = [0, 1, 2, 3].flatMap((k) => fleet.targets.slice(0, 10).map((t) => ssm.run(t, `echo batch ${k}`, recordingContext().ctx)))
    const results = await Promise.all(runs)
    expect(results.every((r) => r.exitCode === 0)).toBe(true)
    const calls = fleet.fake.calls.slice(since)
    const throttled = calls.filter((c) => c.throttled).length
    expect(throttled).toBeGreaterThan(0)
    expect(sendCommands(since)).toHaveLength(4)
    console.log(
      `30% throttling, 40 runs: ${calls.length} calls, ${throttled} throttled; SendCommand ${calls.filter((c) => c.action === 'SendCommand').length} (4 accepted), GetCommandInvocation ${calls.filter((c) => c.action === 'GetCommandInvocation').length}`,
    )
  })
})
