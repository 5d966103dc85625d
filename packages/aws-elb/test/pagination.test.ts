// Pagination: the fake pages like AWS (EC2: at most 1000 instances a page, MaxResults
// 5..1000 and NextToken, MaxResults refused with ids; ELBv2: PageSize 1..400 and Marker),
// checked with the SDK's own paginators; and the adapter reads every page.
import { setMaxListeners } from 'node:events'
import { DescribeInstancesCommand, EC2Client, paginateDescribeInstances } from '@aws-sdk/client-ec2'
import { DescribeTargetGroupsCommand, ElasticLoadBalancingV2Client, paginateDescribeTargetGroups } from '@aws-sdk/client-elastic-load-balancing-v2'
import { contractContext, FakeClock } from '@org/rolling-core/testing'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { elbv2LoadBalancer } from '../src/index.js'
import { startFakeAws, type FakeAws } from './fake-aws.js'
import { startSimulatedFleet } from './simulated.js'

describe('the fake pages like AWS', () => {
  let aws: FakeAws
  let ec2: EC2Client
  let elb: ElasticLoadBalancingV2Client
  const ids: string[] = []
  beforeAll(async () => {
    // A clock nobody advances: no health check ever runs, nothing is dialled.
    aws = await startFakeAws({ clock: new FakeClock({ autoAdvance: false }) })
    for (let i = 0; i < 1200; i++) ids.push(aws.addInstance(`10.1.${i >> 8}.${i & 255}`, `i-0${i.toString(16).padStart(16, '0')}`))
    for (let i = 0; i < 5; i++) aws.addTargetGroup({ name: `tg-${i}` })
    ec2 = new EC2Client({ ...aws.clientConfig, maxAttempts: 1 })
    elb = new ElasticLoadBalancingV2Client({ ...aws.clientConfig, maxAttempts: 1 })
  })
  afterAll(async () => {
    ec2.destroy()
    elb.destroy()
    await aws.close()
  })

  it('DescribeInstances: MaxResults and NextToken, walked by the SDK paginator', async () => {
    const sizes: number[] = []
    const seen: string[] = []
    for await (const page of paginateDescribeInstances({ client: ec2, pageSize: 500 }, {})) {
      const instances = (page.Reservations ?? []).flatMap((r) => r.Instances ?? [])
      sizes.push(instances.length)
      seen.push(...instances.map((i) => i.InstanceId ?? ''))
    }
    expect(sizes).toEqual([500, 500, 200])
    expect(seen).toEqual(ids)
  })

  it('DescribeInstances: at most 1000 instances an answer, the rest behind NextToken', async () => {
    const first = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids }))
    expect(first.Reservations?.[0]?.Instances).toHaveLength(1000)
    expect(first.NextToken).toBeTruthy()
    const second = await ec2.send(new DescribeInstancesCommand({ InstanceIds: ids, NextToken: first.NextToken }))
    expect(second.Reservations?.[0]?.Instances?.map((i) => i.InstanceId)).toEqual(ids.slice(1000))
    expect(second.NextToken).toBeUndefined()
  })

  it('DescribeInstances: refuses MaxResults with instance ids, and MaxResults out of 5..1000', async () => {
    await expect(ec2.send(new DescribeInstancesCommand({ InstanceIds: ids.slice(0, 2), MaxResults: 5 }))).rejects.toMatchObject({
      name: 'InvalidParameterCombination',
    })
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 1001 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' })
    await expect(ec2.send(new DescribeInstancesCommand({ MaxResults: 4 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' })
  })

  it('DescribeTargetGroups: PageSize and Marker, walked by the SDK paginator; PageSize over 400 refused', async () => {
    const pages: string[][] = []
    // This paginator has no page-size parameter of its own: PageSize goes in the input.
    for await (const page of paginateDescribeTargetGroups({ client: elb }, { PageSize: 2 }))
      pages.push((page.TargetGroups ?? []).map((g) => g.TargetGroupName ?? ''))
    expect(pages).toEqual([['tg-0', 'tg-1'], ['tg-2', 'tg-3'], ['tg-4']])
    const named = await elb.send(new DescribeTargetGroupsCommand({ Names: ['tg-4', 'tg-1', 'tg-3'], PageSize: 2 }))
    expect(named.TargetGroups?.map((g) => g.TargetGroupName)).toEqual(['tg-4', 'tg-1'])
    expect(named.NextMarker).toBeTruthy()
    await expect(elb.send(new DescribeTargetGroupsCommand({ PageSize: 401 }))).rejects.toMatchObject({ name: 'ValidationError' })
    await expect(elb.send(new DescribeTargetGroupsCommand({ Marker: 'not-a-marker' }))).rejects.toMatchObject({ name: 'ValidationError' })
  })
})

describe('the adapter reads every page', () => {
  it('discovers 1200 instance targets (two groups of 600) with one DescribeInstances per 1000 ids', async () => {
    const fleet = await startSimulatedFleet({ targets: 1200, groups: ['blue', 'green'], targetType: 'instance' })
    try {
      const lb = fleet.lb({ describeIntervalMs: 0 })
      const found = await lb.discover(contractContext({ clock: fleet.clock }))
      expect(found).toHaveLength(1200)
      expect(new Set(found.map((t) => t.address)).size).toBe(1200)
      for (const t of found) {
        const i = Number.parseInt((t.labels?.targetId ?? '').slice(2), 16)
        expect(t.address).toBe(`10.0.${i >> 8}.${(i & 255) + 1}`)
      }
      const describes = fleet.aws.calls.filter((c) => c.action === 'DescribeInstances')
      const idsPerCall = describes.map((c) => Object.keys(c.params).filter((k) => k.startsWith('InstanceId.')).length)
      expect(idsPerCall).toEqual([1000, 200])
      // DescribeTargetHealth is not paginated: one call answers all 600 targets of a group.
      expect(fleet.aws.count('DescribeTargetHealth')).toBe(2)
      lb.destroy()
    } finally {
      await fleet.close()
    }
  }, 60_000)

  it('resolves more configured target groups than one DescribeTargetGroups page holds (400)', async () => {
    const aws = await startFakeAws({ clock: new FakeClock({ autoAdvance: false }) })
    const names = Array.from({ length: 401 }, (_, i) => `tg-${i}`)
    names.forEach((name, i) => {
      aws.addTargetGroup({ name, port: 8080 })
      aws.register(name, [{ id: `10.2.${i >> 8}.${i & 255}` }], { healthy: true })
    })
    const lb = elbv2LoadBalancer({ targetGroups: names, clientConfig: aws.clientConfig, describeIntervalMs: 2 })
    try {
      // 401 health calls 2 ms apart: a slow answer lets a dozen overlap, each listening on the signal.
      const controller = new AbortController()
      setMaxListeners(1000, controller.signal)
      const found = await lb.discover(contractContext({ signal: controller.signal }))
      expect(found).toHaveLength(401)
      expect(new Set(found.map((t) => t.labels?.targetGroup))).toEqual(new Set(names))
      const pages = aws.calls.filter((c) => c.action === 'DescribeTargetGroups')
      expect(pages).toHaveLength(2)
      expect(pages[1]?.params.Marker).toBeTruthy()
    } finally {
      lb.destroy()
      await aws.close()
    }
  }, 60_000)
})
