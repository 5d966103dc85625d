// The cloudwatchAlarms gate in a rollout: the real @aws-sdk/client-cloudwatch against the
// wire-level fake on loopback, gating an in-memory fleet. An alarm switched to ALARM (the
// real SetAlarmState) after batch 1 halts the rollout before batch 2 detaches, naming the
// alarm; with 30% of the calls throttled the gates still pass and the rollout ends.
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch'
import { afterEach, describe, expect, it } from 'vitest'
import { memoryJournal, memoryLock, rollout } from '@org/rolling-core'
import { memoryFleet } from '@org/rolling-core/testing'
import { cloudwatchAlarms } from '@org/rolling-aws-cloudwatch'
import { startFakeCloudWatch, type FakeCloudWatch } from '@org/rolling-aws-cloudwatch/testing'

describe('cloudwatchAlarms gating a rollout', () => {
  let fake: FakeCloudWatch | undefined
  let client: CloudWatchClient | undefined
  afterEach(async () => {
    client?.destroy()
    await fake?.close()
  })

  async function fleetWithGate(throttleRate: number) {
    fake = await startFakeCloudWatch({ throttleRate })
    fake.putMetricAlarm('checkout-5xx')
    // Two attempts: a call throttled twice makes the gate say `wait`, and it asks again at its interval.
    client = new CloudWatchClient({ ...fake.clientConfig, maxAttempts: 2 })
    const fleet = memoryFleet({ size: 3 })
    fleet.publish('v2')
    const gate = cloudwatchAlarms({ names: ['checkout-5xx'], client, interval: 50 })
    const run = rollout({
      ...fleet.adapters,
      journal: memoryJournal(),
      lock: memoryLock(),
      settle: { interval: 10, successes: 1, deadline: 1000 },
      gates: [gate],
      bake: 300,
    })
    return { fleet, run }
  }

  it('an alarm switched to ALARM after batch 1 halts before batch 2 detaches, naming the alarm', async () => {
    const { fleet, run } = await fleetWithGate(0)
    run.on('batch:end', async (e) => {
      if (e.index === 0) {
        await client?.send(new SetAlarmStateCommand({ AlarmName: 'checkout-5xx', StateValue: 'ALARM', StateReason: 'Threshold Crossed: 5xx > 1%' }))
      }
    })
    const result = await run
    expect(result.status).toBe('halted')
    expect(result.reason).toMatch(/^gate cloudwatch failed after batch 1 of 3: .*checkout-5xx.*ALARM.*Threshold Crossed: 5xx > 1%/)
    expect(fleet.lb.calls.filter((c) => c.op === 'detach')).toHaveLength(1)
    expect(fleet.versions().get('v1')).toBe(2)
  })

  it('with 30% of the calls throttled the gates still pass after every batch and at the end', async () => {
    const { fleet, run } = await fleetWithGate(0.3)
    const result = await run
    expect(result.status, result.reason).toBe('succeeded')
    expect(result.gates?.map((g) => [g.batch, g.final, g.passed])).toEqual([
      [0, false, true],
      [1, false, true],
      [2, true, true],
    ])
    expect(fake?.calls.filter((c) => c.error === 'Throttling').length ?? 0).toBeGreaterThan(0)
    expect(fleet.versions().get('v2')).toBe(3)
  })
})
