// The shared LoadBalancer contract suite, run through the real SDK clients against the
// fake ELBv2 endpoint with three real HTTP targets on loopback.
import { testLoadBalancer } from '@org/rolling-core/testing'
import { describe } from 'vitest'
import { startFixture } from './support.js'

describe('elbv2LoadBalancer', () => {
  testLoadBalancer({
    name: 'elbv2',
    timeout: 15_000,
    setup: async () => {
      const fixture = await startFixture({ targets: 3, firstHost: 10 })
      return { lb: fixture.lb(), teardown: () => fixture.stop() }
    },
  })
})
