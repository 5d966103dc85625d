// The data plane's own process (see data-plane.ts): the Node load balancer, routing new
// requests only to the backends the parent last said are members. Forked with its options
// as one JSON argument; talks to the parent over IPC.
import type { Target } from '@org/rolling-core'
import { startNodeLoadBalancer, type NodeLoadBalancerOptions } from './node-lb.js'

interface Init {
  targets: Target[]
  members: string[]
  address?: string
  port?: number
  check?: NodeLoadBalancerOptions['check']
}

type Message = { type: 'members'; ids: string[] } | { type: 'stats'; id: number } | { type: 'stop' }

const init = JSON.parse(process.argv[2] ?? '{}') as Init
if (!process.send || !Array.isArray(init.targets)) throw new Error('usage (as a forked child): data-plane-child.ts <options as JSON>')
let members = new Set(init.members)
const lb = await startNodeLoadBalancer({
  targets: init.targets,
  ...(init.address === undefined ? {} : { address: init.address }),
  ...(init.port === undefined ? {} : { port: init.port }),
  ...(init.check === undefined ? {} : { check: init.check }),
  membership: (target) => members.has(target.id),
})
let closing = false
const stop = () => {
  if (closing) return
  closing = true
  void lb.close().finally(() => process.exit(0))
}
process.on('message', (message: Message) => {
  if (message.type === 'members') members = new Set(message.ids)
  else if (message.type === 'stats') process.send?.({ type: 'stats', id: message.id, stats: lb.stats() })
  else if (message.type === 'stop') stop()
})
// A gone parent (a crashed test run): no load balancer outlives it.
process.on('disconnect', stop)
process.send({ type: 'ready', address: lb.address, port: lb.port })
