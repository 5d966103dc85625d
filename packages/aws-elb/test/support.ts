// A fixture: a fake ELBv2/EC2 endpoint, real HTTP targets on 127.0.0.x registered in
// target groups, and the adapter pointed at the fake through the real SDK clients.
import { elbv2LoadBalancer, type Elbv2LoadBalancerOptions } from '../src/index.js'
import { startFakeAws, startHttpTargets, type FakeAws, type FakeAwsOptions, type HttpTargets } from './fake-aws.js'

export interface Fixture {
  aws: FakeAws
  fleet: HttpTargets
  lb(options?: Partial<Elbv2LoadBalancerOptions>): ReturnType<typeof elbv2LoadBalancer>
  stop(): Promise<void>
}

export interface FixtureOptions extends FakeAwsOptions {
  targets?: number
  firstHost?: number
  /** Target group name(s); targets are spread round-robin over them. @default ['web'] */
  groups?: string[]
  deregistrationDelayMs?: number
  /** Draining ends when no held connection is left, as on real ELB. @default false */
  drainEndsWhenIdle?: boolean
  targetType?: 'ip' | 'instance'
  /** Register the targets already healthy. @default true */
  healthy?: boolean
}

export async function startFixture(options: FixtureOptions = {}): Promise<Fixture> {
  const aws = await startFakeAws(options)
  const fleet = await startHttpTargets(options.targets ?? 3, { firstHost: options.firstHost ?? 2 })
  const groups = options.groups ?? ['web']
  for (const name of groups)
    aws.addTargetGroup({
      name,
      targetType: options.targetType ?? 'ip',
      deregistrationDelayMs: options.deregistrationDelayMs ?? 200,
      drainEndsWhenIdle: options.drainEndsWhenIdle ?? false,
    })
  fleet.targets.forEach((t, i) => {
    const group = groups[i % groups.length] as string
    const id = options.targetType === 'instance' ? aws.addInstance(t.host) : t.host
    aws.register(group, [{ id, port: t.port }], { healthy: options.healthy ?? true })
  })
  const made: ReturnType<typeof elbv2LoadBalancer>[] = []
  return {
    aws,
    fleet,
    lb: (o) => {
      const lb = elbv2LoadBalancer({ targetGroups: groups, clientConfig: aws.clientConfig, pollMs: 30, describeIntervalMs: 5, throttleBaseMs: 10, ...o })
      made.push(lb)
      return lb
    },
    stop: async () => {
      for (const lb of made) lb.destroy()
      await aws.close()
      await fleet.close()
    },
  }
}
