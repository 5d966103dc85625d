// The AWS-shaped rollout, end to end: a build published to S3 (moto), resolved as
// latest, downloaded by each host from a presigned URL and installed by SSM Run Command
// (the fake really runs the recipe in the host's folder), on 6 hosts that are the instances
// of an ELBv2 target group (the fake ELBv2/EC2 checks them over real HTTP), all through
// the real AWS SDK clients; steady load goes through a data-plane load balancer that routes
// only to targets the fake reports `healthy`, as an ALB does. Then with 30% of ELBv2 and
// SSM calls throttled. Nothing here needs HAProxy or AWS (moto must be installed for python3):
// nothing skips, in CI or not.
import { readlinkSync } from 'node:fs'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { rollout, type Artifact, type RolloutResult } from '@org/rolling-core'
import { waitUntil } from '@org/rolling-core/adapter'
import { startAwsFleet, type AwsFleet } from '../../src/aws.js'
import type { BackendStats } from '../../src/index.js'
import { status } from '../support.js'
import {
  RATE,
  REFERENCE_RATE,
  SETTLE,
  figures,
  p99Bound,
  servedRps,
  expectNoUserImpact,
  sleep,
  startLoadProcess,
  startReferenceServer,
  type LoadProcess,
  type Window,
} from './support.js'

const SIZE = 6
const BATCHES = SIZE / 2
/** Recipe steps that run a command on each host: prepare (download, check, unpack), deploy (switch, restart), prune. */
const COMMANDS_PER_HOST = 3
/**
 * How soon the data plane must route to a target the engine reports attached (healthy in
 * ELBv2). Membership is pushed within ~5 ms; the rest is a noise floor for a busy 2-core box,
 * where an IPC round trip alone was seen to take hundreds of ms.
 */
const FOLLOW_MS = 2000

interface Run {
  result: RolloutResult
  artifact: Artifact
  before: Window
  during: Window
  /** What the fake ELBv2 and the data plane said about a target when the engine reported it detached or attached. */
  seen: Promise<{
    event: 'detached' | 'attached'
    host: string
    elbState: string
    dataPlane: boolean | undefined
    inflight: number | undefined
    lagMs: number
  }>[]
  pidsBefore: (number | undefined)[]
  /** Index of the first call of this rollout in each fake's log. */
  since: { elb: number; ssm: number }
}

let fleet: AwsFleet | undefined
let load: LoadProcess | undefined
let reference: { stop(): Promise<void> } | undefined
afterEach(async () => {
  await load?.stop()
  load = undefined
  await reference?.stop()
  reference = undefined
  await fleet?.stop()
  fleet = undefined
})

/**
 * What the data plane says of `host`, asked when the engine reports it detached or attached.
 * Membership reaches the data plane's process within a few ms of a state change; once
 * attached, the host must be back in it within `FOLLOW_MS`; once detached it has long been out.
 */
async function dataPlaneView(f: AwsFleet, event: 'detached' | 'attached', host: string, elbState: string) {
  const asked = performance.now()
  let backend: BackendStats | undefined
  await waitUntil(
    async () => {
      backend = (await f.dataPlane.stats()).find((b) => b.id === host)
      return event === 'detached' || backend?.inService ? { state: 'done', value: true } : { state: 'retry', observed: backend }
    },
    { what: `the data plane to route to ${host} again`, timeoutMs: FOLLOW_MS, minDelayMs: 5, maxDelayMs: 20 },
  ).catch(() => undefined)
  return { event, host, elbState, dataPlane: backend?.inService, inflight: backend?.inflight, lagMs: Math.round(performance.now() - asked) }
}

/**
 * Publishes v2 to S3, then rolls out `latest` in batches of 2 under steady load through the
 * data plane, with a little load on an untouched reference server to measure the machine's own noise.
 */
async function rollV2UnderLoad(f: AwsFleet): Promise<Run> {
  const artifact = await f.publish('v2')
  const pidsBefore = f.hosts.map((h) => h.pid)
  const ref = await startReferenceServer(f.dir)
  reference = ref
  load = await startLoadProcess(f.url, RATE, { url: ref.url, rate: REFERENCE_RATE })
  await sleep(1000)
  await load.mark() // warm-up: connections opening, JIT
  await sleep(3000)
  const before = await load.mark()
  const since = { elb: f.fakes.elbv2.calls.length, ssm: f.fakes.ssm.calls.length }
  const hostOf = new Map(f.hosts.map((h) => [h.instanceId, h.id]))
  const seen: Run['seen'] = []
  const run = rollout({
    service: f.service,
    version: 'latest',
    loadBalancer: f.loadBalancer,
    artifacts: f.artifacts,
    executor: f.executor,
    deploy: f.deploy,
    healthCheck: f.healthCheck,
    batch: 2,
    settle: SETTLE,
    stateDir: f.stateDir,
  })
  for (const event of ['detached', 'attached'] as const) {
    run.on(`target:${event}`, ({ target }) => {
      const instanceId = target.labels?.targetId ?? ''
      const host = hostOf.get(instanceId) ?? target.id
      const elbState = f.fakes.elbv2.state(f.targetGroup.name, instanceId, target.port)
      seen.push(dataPlaneView(f, event, host, elbState))
    })
  }
  const result = await run
  const during = await load.mark()
  await load.stop()
  load = undefined
  return { result, artifact, before, during, seen, pidsBefore, since }
}

/** Everything both cases assert: the outcome, every host, the traffic, the API calls. Returns the call figures. */
async function expectRolledOut(f: AwsFleet, r: Run, name: string): Promise<Record<string, number>> {
  const { result, artifact, before, during } = r
  const elbCalls = f.fakes.elbv2.calls.slice(r.since.elb)
  const ssmCalls = f.fakes.ssm.calls.slice(r.since.ssm)
  const elbOk = (action: string) => elbCalls.filter((c) => c.action === action && !c.error)
  const sends = ssmCalls.filter((c) => c.action === 'SendCommand' && !c.throttled)
  const invocations = f.fakes.ssm.invocations()
  const calls = {
    DescribeTargetHealth: elbOk('DescribeTargetHealth').length,
    DeregisterTargets: elbOk('DeregisterTargets').length,
    RegisterTargets: elbOk('RegisterTargets').length,
    DescribeInstances: elbOk('DescribeInstances').length,
    'elb throttled': elbCalls.filter((c) => c.error === 'Throttling' || c.error === 'RequestLimitExceeded').length,
    'elb total': elbCalls.length,
    SendCommand: sends.length,
    GetCommandInvocation: ssmCalls.filter((c) => c.action === 'GetCommandInvocation' && !c.throttled).length,
    'ssm throttled': ssmCalls.filter((c) => c.throttled).length,
    'ssm total': ssmCalls.length,
  }
  const bound = p99Bound(before, during)
  figures(name, { before, during, 'reference before': before.reference ?? before, 'reference during': during.reference ?? during })
  console.info(
    `[e2e] ${name}: ${result.status} in ${result.durationMs} ms, ${result.batches} batches; served ${servedRps(during)}/s vs ${servedRps(before)}/s before; ` +
      `p99 ${during.latency.p99} ms (bound ${bound} ms); calls ${JSON.stringify(calls)}`,
  )

  expect(result.status, result.reason).toBe('succeeded')
  // `latest` was resolved from S3's LATEST pointer: the build just published.
  expect(result.artifact).toMatchObject({ version: 'v2', sha256: artifact.sha256, builtAt: artifact.builtAt })
  expect(result.batches).toBe(BATCHES)
  expect(result.targets.map((t) => t.outcome)).toEqual(Array(SIZE).fill('done'))
  expect(result.needsAttention).toEqual([])

  // Every host runs v2: on disk (`current`), in a new process, answering `_status` with the build's version and time.
  for (const [i, host] of f.hosts.entries()) {
    expect(readlinkSync(join(host.dir, 'current'))).toBe('releases/v2')
    expect(host.version).toBe('v2')
    expect(await status(host.target)).toMatchObject({ code: 200, version: 'v2' })
    expect(host.pid).not.toBe(r.pidsBefore[i])
    expect(f.fakes.elbv2.state(f.targetGroup.name, host.instanceId, host.target.port)).toBe('healthy')
  }

  // Users saw nothing: the load ran through the whole rollout, with no failed request.
  expectNoUserImpact(before, during, bound)
  // The data plane followed ELBv2: a detached target was drained (`unused`) and out of the
  // data plane with nothing in flight; an attached one was `healthy` and back in it.
  const seen = await Promise.all(r.seen)
  console.info(
    `[e2e] ${name}: data plane back in service ${Math.max(...seen.filter((s) => s.event === 'attached').map((s) => s.lagMs))} ms at most after attach`,
  )
  expect(
    seen.filter((s) => s.event === 'detached'),
    JSON.stringify(seen),
  ).toEqual(f.hosts.map(() => expect.objectContaining({ elbState: 'unused', dataPlane: false, inflight: 0 })))
  expect(
    seen.filter((s) => s.event === 'attached'),
    JSON.stringify(seen),
  ).toEqual(f.hosts.map(() => expect.objectContaining({ elbState: 'healthy', dataPlane: true })))
  for (const backend of await f.dataPlane.stats()) expect(backend.served, backend.id).toBeGreaterThan(0)

  // ELBv2: one DeregisterTargets and one RegisterTargets per batch, each naming the batch's 2 instances.
  for (const action of ['DeregisterTargets', 'RegisterTargets']) {
    const accepted = elbOk(action)
    expect(accepted, action).toHaveLength(BATCHES)
    const named = accepted.map((c) =>
      Object.keys(c.params)
        .filter((k) => /^Targets\.member\.\d+\.Id$/.test(k))
        .map((k) => c.params[k]),
    )
    expect(named.map((ids) => ids.length)).toEqual(Array(BATCHES).fill(2))
    expect(named.flat().sort()).toEqual(f.hosts.map((h) => h.instanceId).sort())
  }

  // SSM: each host ran each recipe command exactly once (a throttled SendCommand runs nothing,
  // so a retry never runs a step twice), and every invocation succeeded. Commands to the 2
  // hosts of a batch are batched into one SendCommand when they are identical.
  const ran = invocations.filter((i) => sends.some((s) => (s.input.InstanceIds as string[]).includes(i.instanceId)))
  for (const host of f.hosts) {
    const mine = ran.filter((i) => i.instanceId === host.instanceId)
    expect(
      mine.map((i) => i.status),
      host.id,
    ).toEqual(Array(COMMANDS_PER_HOST).fill('Success'))
    // The build came from S3, through a presigned URL to its content-addressed bytes.
    expect(mine[0]?.script).toMatch(new RegExp(`${f.endpoints.s3.replace(/[.]/g, '\\.')}/builds/rolling/app/\\.builds/[0-9a-f]{64}/app-v2\\.tgz\\?`))
    expect(mine[0]?.script).toContain('X-Amz-Signature=')
  }
  expect(sends.flatMap((s) => s.input.InstanceIds as string[])).toHaveLength(SIZE * COMMANDS_PER_HOST)
  expect(sends.length).toBeGreaterThanOrEqual(BATCHES * COMMANDS_PER_HOST)
  expect(sends.length).toBeLessThanOrEqual(SIZE * COMMANDS_PER_HOST)
  return calls
}

describe(`e2e: AWS-shaped rollout (S3 + SSM + ELBv2 fakes, real SDK clients), ${SIZE} hosts, ${RATE} req/s through the data plane`, () => {
  it('publishes v2 to S3 and rolls out `latest` with SSM and ELBv2 in batches of 2 under load: succeeded, every host on v2, 0 failed requests', async () => {
    fleet = await startAwsFleet({ size: SIZE, startupDelayMs: 300 })
    const run = await rollV2UnderLoad(fleet)
    const calls = await expectRolledOut(fleet, run, 'aws rollout')
    expect(calls['elb throttled']).toBe(0)
    expect(calls['ssm throttled']).toBe(0)
  })

  it('with 30% of ELBv2 and SSM calls throttled: still succeeded, 0 failed requests, no step run twice', async () => {
    fleet = await startAwsFleet({ size: SIZE, startupDelayMs: 300, throttleRate: 0.3 })
    const run = await rollV2UnderLoad(fleet)
    const calls = await expectRolledOut(fleet, run, 'aws rollout, 30% throttled')
    // The throttling really happened, on both services.
    expect(calls['elb throttled']).toBeGreaterThan(0)
    expect(calls['ssm throttled']).toBeGreaterThan(0)
  })
})
