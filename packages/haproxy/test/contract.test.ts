// The shared LoadBalancer contract suite, run against a real HAProxy with three
// backends on loopback.
import { testLoadBalancer } from '@org/rolling-core/testing'
import { describeHaproxy, startFleet } from './support.js'

describeHaproxy('haproxyLoadBalancer', () => {
  testLoadBalancer({
    name: 'haproxy',
    timeout: 15_000,
    setup: async () => {
      const fleet = await startFleet({ servers: 3 })
      return { lb: fleet.lb(), teardown: () => fleet.stop() }
    },
  })
})
