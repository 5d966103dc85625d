// cloudwatchAlarms with the real @aws-sdk/client-cloudwatch against the wire-level fake:
// the Gate contract suite, composite alarms, an alarm switched to ALARM mid-bake through the
// real SetAlarmState, 30% of calls throttled, unreadable alarms, more than 100 names.
import { CloudWatchClient, SetAlarmStateCommand } from '@aws-sdk/client-cloudwatch'
import { afterEach, describe, expect, it } from 'vitest'
import { runGate, systemClock, ValidationError, type GateContext, type GateState } from '@org/rolling-core'
import { silentLogger } from '@org/rolling-core/testing'
import { testGate } from '@org/rolling-core/testing/contracts'
import { cloudwatchAlarms } from '@org/rolling-aws-cloudwatch'
import { startFakeCloudWatch, type FakeCloudWatch } from '@org/rolling-aws-cloudwatch/testing'

const artifact = { service: 'checkout', version: 'v2', builtAt: new Date(0).toISOString(), sha256: '0'.repeat(64), size: 1 }
const ctx = (signal = new AbortController().signal): GateContext => ({
  service: 'checkout',
  runId: 'r-1',
  artifact,
  batch: 0,
  total: 3,
  final: false,
  signal,
  clock: systemClock,
  log: silentLogger,
})

testGate({
  name: 'cloudwatchAlarms (metric and composite)',
  async setup() {
    const fake = await startFakeCloudWatch()
    fake.putMetricAlarm('checkout-5xx')
    fake.putMetricAlarm('checkout-latency')
    fake.putCompositeAlarm('checkout-health', ['checkout-5xx', 'checkout-latency'])
    // Two attempts, so an all-throttled API answers `wait` quickly.
    const client = new CloudWatchClient({ ...fake.clientConfig, maxAttempts: 2 })
    return {
      gate: cloudwatchAlarms({ names: ['checkout-health', 'checkout-5xx'], client }),
      async set(state: GateState) {
        fake.throttleRate = state === 'wait' ? 1 : 0
        fake.setState('checkout-latency', state === 'fail' ? 'ALARM' : 'OK')
      },
      async teardown() {
        client.destroy()
        await fake.close()
      },
    }
  },
})

describe('cloudwatchAlarms', () => {
  let fake: FakeCloudWatch | undefined
  let client: CloudWatchClient | undefined
  afterEach(async () => {
    client?.destroy()
    await fake?.close()
    fake = client = undefined
  })
  const start = async (throttleRate = 0) => {
    fake = await startFakeCloudWatch({ throttleRate })
    client = new CloudWatchClient(fake.clientConfig)
    return { fake, client }
  }

  it('fails naming the alarm in ALARM and its reason, through a composite', async () => {
    const { fake, client } = await start()
    fake.putMetricAlarm('db-cpu')
    fake.putCompositeAlarm('service-health', ['db-cpu'])
    const gate = cloudwatchAlarms({ names: ['service-health'], client })
    expect(await gate.check(ctx())).toEqual({ state: 'pass', detail: '1 alarm(s) OK' })
    fake.setState('db-cpu', 'ALARM', 'Threshold Crossed: 3 datapoints above 90')
    expect(await gate.check(ctx())).toEqual({ state: 'fail', detail: 'alarm service-health is ALARM (Rule evaluated to ALARM)' })
    // Composite alarms are returned only when asked for: the gate asks.
    expect(fake.calls.at(-1)?.body.AlarmTypes).toEqual(['MetricAlarm', 'CompositeAlarm'])
  })

  it('an alarm switched to ALARM mid-bake (real SetAlarmState) fails the gate before the bake ends', async () => {
    const { fake, client } = await start()
    fake.putMetricAlarm('checkout-5xx')
    const gate = cloudwatchAlarms({ names: ['checkout-5xx'], client, interval: 50 })
    const running = runGate(gate, ctx(), { bake: 5000, timeoutMs: 10_000, signal: new AbortController().signal })
    await new Promise((resolve) => setTimeout(resolve, 300))
    await client.send(new SetAlarmStateCommand({ AlarmName: 'checkout-5xx', StateValue: 'ALARM', StateReason: 'Threshold Crossed: 5xx rate 4%' }))
    const outcome = await running
    expect(outcome.passed).toBe(false)
    expect(outcome.detail).toBe('alarm checkout-5xx is ALARM (Threshold Crossed: 5xx rate 4%)')
    expect(outcome.durationMs).toBeLessThan(5000)
  })

  it('with 30% of calls throttled, a bake of OK alarms still passes and an ALARM is still seen', async () => {
    const { fake, client } = await start(0.3)
    fake.putMetricAlarm('a')
    fake.putMetricAlarm('b')
    const gate = cloudwatchAlarms({ names: ['a', 'b'], client, interval: 20 })
    const passed = await runGate(gate, ctx(), { bake: 1500, timeoutMs: 20_000, signal: new AbortController().signal })
    expect(passed.passed).toBe(true)
    expect(fake.count('DescribeAlarms') - fake.count('DescribeAlarms', { succeeded: true })).toBeGreaterThan(0)
    fake.setState('b', 'ALARM')
    const failed = await runGate(gate, ctx(), { bake: 1500, timeoutMs: 20_000, signal: new AbortController().signal })
    expect(failed).toMatchObject({ passed: false, detail: expect.stringMatching(/^alarm b is ALARM/) })
  })

  it('an API throttled past the deadline fails the gate, saying it was throttled', async () => {
    const { fake } = await start(1)
    fake.putMetricAlarm('a')
    const quick = new CloudWatchClient({ ...fake.clientConfig, maxAttempts: 1 })
    const gate = cloudwatchAlarms({ names: ['a'], client: quick, interval: 20 })
    const outcome = await runGate(gate, ctx(), { bake: 0, timeoutMs: 300, signal: new AbortController().signal })
    quick.destroy()
    expect(outcome.passed).toBe(false)
    expect(outcome.detail).toMatch(/^still undecided after 300ms: DescribeAlarms failed: Throttling: Rate exceeded/)
  })

  it('a missing alarm or a denied call fails the gate, unless ignoreUnreadable', async () => {
    const { fake, client } = await start()
    fake.putMetricAlarm('present')
    const strict = cloudwatchAlarms({ names: ['present', 'typo-alarm'], client })
    expect(await strict.check(ctx())).toEqual({ state: 'fail', detail: 'could not read alarm(s) typo-alarm: no such alarm' })
    const lenient = cloudwatchAlarms({ names: ['present', 'typo-alarm'], client, ignoreUnreadable: true })
    expect(await lenient.check(ctx())).toEqual({
      state: 'pass',
      detail: '1 alarm(s) OK; could not read typo-alarm (no such alarm); ignored (ignoreUnreadable)',
    })
    fake.denied.add('DescribeAlarms')
    const denied = await strict.check(ctx())
    expect(denied.state).toBe('fail')
    expect(denied.detail).toMatch(/^could not read alarm\(s\) present, typo-alarm: DescribeAlarms failed: AccessDenied: .*not authorized/)
    expect((await lenient.check(ctx())).state).toBe('pass')
  })

  it('reads more than 100 alarms in calls of 100 names', async () => {
    const { fake, client } = await start()
    const names = Array.from({ length: 230 }, (_, i) => `alarm-${String(i).padStart(3, '0')}`)
    for (const n of names) fake.putMetricAlarm(n)
    fake.setState('alarm-201', 'ALARM')
    const verdict = await cloudwatchAlarms({ names, client }).check(ctx())
    expect(verdict.state).toBe('fail')
    expect(verdict.detail).toMatch(/^alarm alarm-201 is ALARM/)
    expect(fake.count('DescribeAlarms')).toBe(3)
    expect(fake.calls.map((c) => (c.body.AlarmNames as string[]).length)).toEqual([100, 100, 30])
  })

  it('INSUFFICIENT_DATA passes by default and can be made to wait or fail', async () => {
    const { fake, client } = await start()
    fake.putMetricAlarm('new-alarm', 'INSUFFICIENT_DATA')
    expect(await cloudwatchAlarms({ names: ['new-alarm'], client }).check(ctx())).toEqual({
      state: 'pass',
      detail: '0 alarm(s) OK, new-alarm INSUFFICIENT_DATA',
    })
    expect((await cloudwatchAlarms({ names: ['new-alarm'], client, insufficientData: 'wait' }).check(ctx())).state).toBe('wait')
  })

  it('refuses bad options naming them', () => {
    expect(() => cloudwatchAlarms({ names: [] })).toThrow(ValidationError)
    expect(() => cloudwatchAlarms({ names: [''] })).toThrow(/cloudwatchAlarms\.names/)
    expect(() => cloudwatchAlarms({ names: ['a'], insufficientData: 'maybe' as never })).toThrow(/cloudwatchAlarms\.insufficientData/)
  })
})
