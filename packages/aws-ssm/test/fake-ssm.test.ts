// The fake SSM endpoint as other packages use it through `@org/rolling-aws-ssm/testing`:
// hosts with their own environment, hosts added later, and throttling on every action,
// answered as SSM does (ThrottlingException in the JSON protocol) to the real SSMClient.
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { CancelCommandCommand, GetCommandInvocationCommand, ListCommandInvocationsCommand, SendCommandCommand, type SSMClient } from '@aws-sdk/client-ssm'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ssmExecutor } from '../src/index.js'
import { startFakeSsm, type FakeSsm } from '../src/testing.js'
import { recordingContext, rejectionOf } from './support.js'

let root: string
let fake: FakeSsm
let client: SSMClient
beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'rolling-fake-ssm-'))
  fake = await startFakeSsm({ hosts: { 'i-00000000000000001': { dir: root, env: { APP_HOST: '127.0.0.2' } } } })
  client = fake.client({ maxAttempts: 1 })
})
afterAll(async () => {
  client.destroy()
  await fake?.close()
  await rm(root, { recursive: true, force: true })
})

describe('fake SSM', () => {
  it('runs a command in the folder of its instance, with the host environment', async () => {
    const ssm = ssmExecutor({ client, pollMs: 20, maxPollMs: 100 })
    const target = { id: 'web-1', address: '127.0.0.2', labels: { instanceId: 'i-00000000000000001' } }
    const result = await ssm.run(target, 'echo "$PWD $APP_HOST $HOME"', recordingContext().ctx)
    expect(result.stdout).toBe(`${root} 127.0.0.2 ${root}\n`)
  })

  it('knows a host added later; an unknown one is InvalidInstanceId', async () => {
    const ssm = ssmExecutor({ client, pollMs: 20, maxPollMs: 100 })
    const target = { id: 'web-2', address: '127.0.0.3', labels: { instanceId: 'i-00000000000000002' } }
    const error = await rejectionOf(ssm.run(target, 'true', recordingContext().ctx))
    expect(error.message).toContain('is not in a valid state')
    fake.addHost('i-00000000000000002', tmpdir())
    expect((await ssm.run(target, 'pwd', recordingContext().ctx)).stdout).toBe(`${tmpdir()}\n`)
  })

  it('throttles every action with ThrottlingException at throttleRate 1, and records it', async () => {
    fake.throttleRate = 1
    try {
      const since = fake.calls.length
      const calls = [
        client.send(new SendCommandCommand({ DocumentName: 'AWS-RunShellScript', InstanceIds: ['i-00000000000000001'], Parameters: { commands: ['true'] } })),
        client.send(new GetCommandInvocationCommand({ CommandId: 'c', InstanceId: 'i-00000000000000001' })),
        client.send(new CancelCommandCommand({ CommandId: 'c' })),
        client.send(new ListCommandInvocationsCommand({})),
      ]
      const errors = await Promise.all(calls.map((call) => rejectionOf(call)))
      expect(errors.map((e) => e.name)).toEqual(Array(4).fill('ThrottlingException'))
      const recorded = fake.calls.slice(since).map((c) => `${c.action} ${c.throttled ? 'throttled' : 'answered'}`)
      expect(recorded.sort()).toEqual([
        'CancelCommand throttled',
        'GetCommandInvocation throttled',
        'ListCommandInvocations throttled',
        'SendCommand throttled',
      ])
      // A throttled SendCommand runs nothing.
      expect(fake.invocations().filter((i) => i.script === 'true')).toHaveLength(0)
    } finally {
      fake.throttleRate = 0
    }
  })

  it('refuses a throttle rate outside 0..1', async () => {
    await expect(startFakeSsm({ throttleRate: 1.5 })).rejects.toThrow('throttleRate must be in 0..1, got 1.5')
  })
})
