// The AWS-shaped local fleet: the local fleet's hosts as EC2 instances (private IPs
// 127.0.0.x) in an ELBv2 target group of the fake ELBv2/EC2, managed by the fake SSM (each
// instance id runs commands in its host's folder), builds in moto's S3 (Python), and a
// data-plane load balancer that sends traffic only to targets the fake ELBv2 reports
// `healthy`, as an ALB does. It hands out the real adapters wired to all of it: the fixture
// of the AWS end-to-end tests and of the `examples/aws` config. Imported as
// `@org/rolling-local-fleet/aws`, so the main entry never loads the AWS SDK or starts moto.
import { mkdir, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join, resolve } from 'node:path'
import type { AdapterContext, Artifact, DeployRecipe, Target } from '@org/rolling-core'
import { ValidationError, httpHealthCheck, systemClock, type HttpHealthCheck } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { elbv2LoadBalancer, type Elbv2LoadBalancer, type Elbv2LoadBalancerOptions } from '@org/rolling-aws-elb'
import { startFakeAws, type FakeAws, type FakeHealthCheck } from '@org/rolling-aws-elb/testing'
import { ssmExecutor, type SsmExecutor, type SsmExecutorOptions } from '@org/rolling-aws-ssm'
import { startFakeSsm, type FakeSsm } from '@org/rolling-aws-ssm/testing'
import { s3Artifacts, type S3ArtifactStore } from '@org/rolling-s3'
import { startMotoS3, type MotoS3 } from '@org/rolling-s3/testing'
import { buildRelease, type ReleaseOptions } from './build.js'
import { startHosts, type FleetHost, type Hosts } from './hosts.js'
import { startDataPlane, type DataPlane } from './data-plane.js'
import { fleetRecipe, type FleetRecipeOptions } from './recipe.js'

export interface AwsFleetOptions {
  /** Number of hosts (EC2 instances), on 127.0.0.2, 127.0.0.3, ... @default 6 */
  size?: number
  /**
   * Share (0..1) of ELBv2/EC2 and SSM API calls answered with a throttling error
   * (`Throttling`, `RequestLimitExceeded`, `ThrottlingException`). Change it later with `throttle()`.
   * The data plane and S3 are never throttled. @default 0
   */
  throttleRate?: number
  /** Folder of the fleet (hosts, builds, S3 objects, rollout state). @default a new temp folder */
  dir?: string
  /** Build the hosts start on; published to S3 first, so it is LATEST until the next publish. @default 'v1' */
  version?: string
  /** Simulated boot time of the app. @default 0 */
  startupDelayMs?: number
  /** Port every host listens on (the target group's port). @default a port free on all host addresses */
  port?: number
  /** Name of the target group. @default 'app' */
  targetGroup?: string
  /** The target group's deregistration delay: how long a deregistered target stays `draining`. @default 1000 */
  deregistrationDelayMs?: number
  /** The fake ELBv2's health checks of the group. @default { intervalMs: 100, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 2 } */
  healthCheck?: FakeHealthCheck
  /** Bucket of the builds. @default 'builds' */
  bucket?: string
  /** Key prefix of the builds in the bucket. @default 'rolling/' */
  prefix?: string
  /**
   * Options of the ELBv2 adapter, over the fixture's: polls fast enough for a test,
   * retries enough to ride out heavy throttling.
   * @default { pollMs: 200, describeIntervalMs: 50, throttleBaseMs: 50, maxThrottleRetries: 12 }
   */
  elb?: Partial<Omit<Elbv2LoadBalancerOptions, 'targetGroups' | 'client' | 'ec2Client'>>
  /**
   * Options of the SSM executor, over the fixture's.
   * @default { pollMs: 100, maxPollMs: 500, throttleBaseMs: 50, throttleMaxMs: 1000, throttleRetries: 12 }
   */
  ssm?: Partial<Omit<SsmExecutorOptions, 'client'>>
  /** Options of the deploy recipe. */
  recipe?: FleetRecipeOptions
}

export interface AwsFleetHost extends FleetHost {
  /** Its EC2 instance id, as the target group and SSM know it. */
  instanceId: string
}

export interface AwsFleet {
  dir: string
  /** The service the builds are published under. */
  service: 'app'
  hosts: AwsFleetHost[]
  targetGroup: { name: string; arn: string }
  /** Where traffic goes: the data-plane load balancer (`http://127.0.0.1:<port>/`). */
  url: string
  endpoints: {
    /** ELBv2 and EC2 (one server speaks both Query APIs). */
    elbv2: string
    ssm: string
    s3: string
  }
  /** Config for SDK clients of your own on the fakes (endpoint, region, fake credentials). */
  clientConfig: {
    elbv2: FakeAws['clientConfig']
    ssm: { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } }
    s3: MotoS3['clientConfig']
  }
  /** The fakes themselves: their recorded calls, target states, invocations. */
  fakes: { elbv2: FakeAws; ssm: FakeSsm; s3: MotoS3 }
  /** The load balancer traffic goes through, in a process of its own, following the fake ELBv2's target states. */
  dataPlane: DataPlane
  /** Ready-made adapters for `rollout()`, on the real SDK clients. */
  loadBalancer: Elbv2LoadBalancer
  artifacts: S3ArtifactStore
  executor: SsmExecutor
  healthCheck: HttpHealthCheck
  deploy: DeployRecipe
  /** Folder for the rollout's journal and lock. */
  stateDir: string
  /** Builds `version` and publishes it to S3, where it becomes LATEST. */
  publish(version: string, options?: ReleaseOptions): Promise<Artifact>
  /** Sets the share of ELBv2/EC2 and SSM calls answered with a throttling error. */
  throttle(rate: number): void
  /** Ends everything it started; removes `dir` unless `keep`. */
  stop(options?: { keep?: boolean }): Promise<void>
}

const SERVICE = 'app'
const silent = { debug() {}, info() {}, warn() {}, error() {} }

export async function startAwsFleet(options: AwsFleetOptions = {}): Promise<AwsFleet> {
  const size = options.size ?? 6
  const version = options.version ?? 'v1'
  const group = options.targetGroup ?? 'app'
  const deregistrationDelayMs = options.deregistrationDelayMs ?? 1000
  checkRate(options.throttleRate ?? 0)
  if (!Number.isInteger(size) || size < 1 || size > 250) throw new ValidationError('size', `expected an integer from 1 to 250, got ${size}`)
  if (!(Number.isFinite(deregistrationDelayMs) && deregistrationDelayMs >= 0)) {
    throw new ValidationError('deregistrationDelayMs', `expected a finite number >= 0, got ${deregistrationDelayMs}`)
  }
  const dir = resolve(options.dir ?? (await mkdtemp(join(tmpdir(), 'rolling-aws-fleet-'))))
  await mkdir(dir, { recursive: true })
  const recipe = fleetRecipe(options.recipe)

  // Everything started so far, stopped in reverse order whatever fails.
  const stops: (() => Promise<void> | void)[] = []
  const stop = async (opts: { keep?: boolean } = {}) => {
    for (const step of stops.splice(0).reverse())
      await Promise.resolve()
        .then(step)
        .catch(() => {})
    if (!opts.keep) await rm(dir, { recursive: true, force: true })
  }

  try {
    const s3 = await startMotoS3({ bucket: options.bucket ?? 'builds' })
    stops.push(() => s3.stop())
    const artifacts = s3Artifacts({ bucket: s3.bucket, prefix: options.prefix ?? 'rolling/', clientConfig: s3.clientConfig })
    stops.push(() => artifacts.destroy())
    const publish = async (v: string, opts: ReleaseOptions = {}) => {
      const release = await buildRelease({ dir: join(dir, 'builds'), version: v, ...opts })
      return artifacts.publish(SERVICE, release.file, { version: v, builtAt: release.builtAt })
    }
    await publish(version)

    // The hosts boot from the first build, as from an AMI; later builds come from S3 through SSM.
    const hosts: Hosts = await startHosts({
      size,
      dir: join(dir, 'hosts'),
      build: join(dir, 'builds', `app-${version}.tgz`),
      version,
      ...(options.port === undefined ? {} : { port: options.port }),
      startupDelayMs: options.startupDelayMs ?? 0,
    })
    stops.push(() => hosts.stop())
    const instanceIds = hosts.hosts.map((_, i) => `i-${(0xf1ee7000 + i + 1).toString(16).padStart(17, '0')}`)

    const ssm = await startFakeSsm({ hosts: Object.fromEntries(hosts.hosts.map((h, i) => [instanceIds[i], { dir: h.dir }])) })
    stops.push(() => ssm.close())

    const aws = await startFakeAws()
    stops.push(() => aws.close())
    const tg = aws.addTargetGroup({
      name: group,
      targetType: 'instance',
      port: hosts.port,
      deregistrationDelayMs,
      healthCheck: { intervalMs: 100, timeoutMs: 500, healthyThreshold: 2, unhealthyThreshold: 2, ...options.healthCheck },
    })
    for (const [i, host] of hosts.hosts.entries()) aws.addInstance(host.target.address, instanceIds[i])
    aws.register(
      group,
      instanceIds.map((id) => ({ id, port: hosts.port })),
      { healthy: true },
    )

    // An ALB's data plane: new requests only to `healthy` targets, read from the fake's own state
    // (not through the API, which may be throttled) every 5 ms, well within the deregistration delay.
    const instanceOf = new Map(hosts.hosts.map((h, i) => [h.id, instanceIds[i] as string]))
    const dataPlane = await startDataPlane({
      targets: hosts.targets,
      membership: (target: Target) => aws.state(group, instanceOf.get(target.id) ?? '', target.port) === 'healthy',
    })
    stops.push(() => dataPlane.close())
    const url = `${dataPlane.url}/`
    const ctx: AdapterContext = { signal: new AbortController().signal, clock: systemClock, log: silent }
    const healthCheck = httpHealthCheck({ timeoutMs: 1000 })
    stops.push(() => healthCheck.close())
    await waitUntil(
      async () => {
        const h = await healthCheck.check({ id: 'data plane', address: dataPlane.address, port: dataPlane.port }, ctx)
        return h.ok ? { state: 'done', value: h } : { state: 'retry', observed: h.detail }
      },
      { what: `the data-plane load balancer to answer on ${url}`, timeoutMs: 15_000, minDelayMs: 50, maxDelayMs: 250 },
    )

    const ssmClientConfig = { endpoint: ssm.endpoint, region: 'us-east-1', credentials: { accessKeyId: 'AKIDFAKESSM', secretAccessKey: 'fake-secret' } }
    const loadBalancer = elbv2LoadBalancer({
      pollMs: 200,
      describeIntervalMs: 50,
      throttleBaseMs: 50,
      maxThrottleRetries: 12,
      ...options.elb,
      targetGroups: [group],
      clientConfig: { ...aws.clientConfig, ...options.elb?.clientConfig },
    })
    stops.push(() => loadBalancer.destroy())
    const executor = ssmExecutor({
      pollMs: 100,
      maxPollMs: 500,
      throttleBaseMs: 50,
      throttleMaxMs: 1000,
      throttleRetries: 12,
      ...options.ssm,
      // The executor retries throttling itself, with one budget; the SDK's own retries would hide it.
      clientConfig: { maxAttempts: 1, ...ssmClientConfig, ...options.ssm?.clientConfig },
    })
    stops.push(() => executor.close?.())

    const fleet: AwsFleet = {
      dir,
      service: SERVICE,
      hosts: hosts.hosts.map((host, i) => Object.assign(host, { instanceId: instanceIds[i] as string })),
      targetGroup: tg,
      url,
      endpoints: { elbv2: aws.endpoint, ssm: ssm.endpoint, s3: s3.endpoint },
      clientConfig: { elbv2: aws.clientConfig, ssm: ssmClientConfig, s3: s3.clientConfig },
      fakes: { elbv2: aws, ssm, s3 },
      dataPlane,
      loadBalancer,
      artifacts,
      executor,
      healthCheck,
      deploy: recipe,
      stateDir: join(dir, 'state'),
      publish,
      throttle(rate) {
        checkRate(rate)
        aws.throttleRate = rate
        ssm.throttleRate = rate
      },
      stop,
    }
    fleet.throttle(options.throttleRate ?? 0)
    return fleet
  } catch (error) {
    await stop()
    throw error
  }
}

function checkRate(rate: unknown): void {
  if (typeof rate !== 'number' || !(rate >= 0 && rate <= 1)) throw new ValidationError('throttleRate', `expected a number from 0 to 1, got ${String(rate)}`)
}
