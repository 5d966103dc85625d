// labels.zone: from the instance's Placement in DescribeInstances (instance targets) or the
// target's AvailabilityZone in DescribeTargetHealth (IP targets), for zone-aware batches.
import { contractContext } from '@org/rolling-core/testing'
import { planBatches, zonesOf } from '@org/rolling-core'
import { afterEach, describe, expect, it } from 'vitest'
import { startFakeAws, startHttpTargets, type FakeAws, type HttpTargets } from './fake-aws.js'
import { elbv2LoadBalancer } from '../src/index.js'

describe('labels.zone', () => {
  let aws: FakeAws | undefined
  let fleet: HttpTargets | undefined
  afterEach(async () => {
    await aws?.close()
    await fleet?.close()
  })

  for (const targetType of ['instance', 'ip'] as const) {
    it(`is the Availability Zone of ${targetType} targets, and zone-aware batches follow it`, async () => {
      aws = await startFakeAws()
      fleet = await startHttpTargets(6, { firstHost: 160 + (targetType === 'ip' ? 10 : 0) })
      aws.addTargetGroup({ name: 'web', targetType })
      const azs = ['us-east-1a', 'us-east-1b', 'us-east-1c']
      fleet.targets.forEach((t, i) => {
        const zone = azs[i % 3] as string
        const id = targetType === 'instance' ? aws!.addInstance(t.host, undefined, zone) : t.host
        if (targetType === 'ip') aws!.setZone(t.host, zone)
        aws!.register('web', [{ id, port: t.port }], { healthy: true })
      })
      const lb = elbv2LoadBalancer({ targetGroups: ['web'], clientConfig: aws.clientConfig, pollMs: 30 })
      try {
        const found = await lb.discover(contractContext())
        expect(found.map((t) => t.labels?.zone).sort()).toEqual([...azs, ...azs].sort())
        const batches = planBatches(found, { batch: '100%', zones: { label: 'zone' } })
        expect(batches.map((b) => zonesOf(b, 'zone'))).toEqual([['us-east-1a'], ['us-east-1b'], ['us-east-1c']])
      } finally {
        lb.destroy()
      }
    })
  }

  it('is absent when AWS names no zone (an IP target outside the VPC reports `all`)', async () => {
    aws = await startFakeAws()
    fleet = await startHttpTargets(1, { firstHost: 180 })
    aws.addTargetGroup({ name: 'web', targetType: 'ip' })
    const [t] = fleet.targets
    aws.setZone(t!.host, 'all')
    aws.register('web', [{ id: t!.host, port: t!.port }], { healthy: true })
    const lb = elbv2LoadBalancer({ targetGroups: ['web'], clientConfig: aws.clientConfig })
    try {
      const [found] = await lb.discover(contractContext())
      expect(found?.labels?.zone).toBeUndefined()
    } finally {
      lb.destroy()
    }
  })
})
