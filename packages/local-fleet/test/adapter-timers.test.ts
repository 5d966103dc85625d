// Every adapter option that ends in a timer goes through the core's one check: a duration
// above Node's ceiling (2^31-1 ms) is refused by name, never clamped by Node to 1 ms.
import { describe, expect, it } from 'vitest'
import { httpHealthCheck, localExecutor } from '@org/rolling-core'
import { haproxyLoadBalancer, runtimeApi } from '@org/rolling-haproxy'
import { elbv2LoadBalancer } from '@org/rolling-aws-elb'
import { ssmExecutor } from '@org/rolling-aws-ssm'
import { fleetRecipe } from '../src/recipe.js'
import { startDataPlane } from '../src/data-plane.js'

const TOO_LONG = (option: string) =>
  `[rolling] invalid option \`${option}\`: 3000000000 ms is above the largest timer Node supports (2147483647 ms, ~24.8 days)`
const clientConfig = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } }
const haproxy = { socket: '/nonexistent/haproxy.sock', backends: 'web' }

const cases: [string, () => unknown][] = [
  ['timeoutMs', () => httpHealthCheck({ timeoutMs: 3e9 })],
  ['killGraceMs', () => localExecutor({ killGraceMs: 3e9 })],
  ...(['drainTimeoutMs', 'attachTimeoutMs', 'pollMs', 'attachPollMs', 'commandTimeoutMs'] as const).map((key): [string, () => unknown] => [
    key,
    () => haproxyLoadBalancer({ ...haproxy, [key]: 3e9 }),
  ]),
  ...(['pollMs', 'drainTimeoutMs', 'drainMarginMs', 'attachTimeoutMs', 'describeIntervalMs', 'throttleBaseMs'] as const).map((key): [string, () => unknown] => [
    key,
    () => elbv2LoadBalancer({ targetGroups: ['web'], clientConfig, [key]: 3e9 }),
  ]),
  ...(['pollMs', 'maxPollMs', 'batchWindowMs', 'throttleBaseMs', 'throttleMaxMs', 'cancelWaitMs'] as const).map((key): [string, () => unknown] => [
    key,
    () => ssmExecutor({ clientConfig, [key]: 3e9 }),
  ]),
  ['stopTimeoutMs', () => fleetRecipe({ stopTimeoutMs: 3e9 })],
  ['downloadTimeoutMs', () => fleetRecipe({ downloadTimeoutMs: 3e9 })],
]

describe('adapter durations above the timer ceiling', () => {
  it.each(cases)('refuses %s: 3e9', (option, make) => {
    expect(make).toThrow(TOO_LONG(option))
  })

  it('refuses them in the data plane, a local executor request and the HAProxy runtime API too', async () => {
    await expect(startDataPlane({ targets: [{ id: 'a', address: '127.0.0.1', port: 1 }] as never, membership: () => true, syncMs: 3e9 })).rejects.toThrow(
      TOO_LONG('syncMs'),
    )
    const ctx = { signal: new AbortController().signal, clock: { now: Date.now } as never, log: console }
    await expect(localExecutor().run({ id: 'a', address: '127.0.0.1' }, { command: 'true', timeoutMs: 3e9 }, ctx)).rejects.toThrow(TOO_LONG('timeoutMs'))
    expect(() => runtimeApi('/nonexistent.sock', { timeoutMs: 3e9 })).toThrow(/from 1 to 2147483647 \(Node's largest timer\), got 3000000000/)
  })
})
