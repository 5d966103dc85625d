// The LoadBalancer contract catches the two adapters that passed it before: one whose
// detach returns without waiting for requests in flight, and one that remembers detached
// targets only in its own memory (attach from a fresh instance, as `resume` makes, did
// nothing). Each is a thin wrapper over the memory LB that breaks exactly one promise.
import { describe, expect, it } from 'vitest'
import { memoryLoadBalancer, type MemoryLoadBalancer } from '../../src/testing/index.js'
import { loadBalancerChecks, type LoadBalancerFixture } from '../../src/testing/contracts/index.js'
import type { LoadBalancer, Target } from '../../src/types.js'

const targets: Target[] = [1, 2, 3].map((i) => ({ id: `web-${i}`, address: `127.100.1.${i}`, port: 8080 }))

const fixture = (memory: MemoryLoadBalancer, make: () => LoadBalancer): LoadBalancerFixture => ({
  lb: make(),
  instance: make,
  holdRequest: async (target) => memory.holdConnection(target.id),
  operator: async (target, action) => memory.operator(target.id, action),
})

// Stops traffic, then returns at once: the held request is cut off in real use.
const noWait = (memory: MemoryLoadBalancer): LoadBalancer => ({
  name: 'no-wait',
  discover: (ctx) => memory.discover(ctx),
  detach: async (list, ctx) => {
    memory.detach(list, ctx).catch(() => {})
  },
  attach: (list, ctx) => memory.attach(list, ctx),
})

// Attaches only what this instance detached itself.
const inMemory = (memory: MemoryLoadBalancer): LoadBalancer => {
  const detached = new Set<string>()
  return {
    name: 'in-memory',
    discover: (ctx) => memory.discover(ctx),
    detach: async (list, ctx) => {
      for (const t of list) detached.add(t.id)
      return memory.detach(list, ctx)
    },
    attach: async (list, ctx) => {
      const mine = list.filter((t) => detached.has(t.id))
      for (const t of mine) detached.delete(t.id)
      return memory.attach(mine, ctx)
    },
  }
}

describe('the LoadBalancer contract against broken adapters', () => {
  it("'held-request' fails an adapter whose detach returns without waiting", async () => {
    const memory = memoryLoadBalancer({ targets })
    const f = fixture(memory, () => noWait(memory))
    const initial = await f.lb.discover({ signal: new AbortController().signal } as never).catch(() => targets)
    await expect(loadBalancerChecks['held-request'](f, initial)).rejects.toThrow(/settled while a request to it was still in flight/)
    // The same check passes on the memory LB itself.
    await loadBalancerChecks['held-request'](
      fixture(memory, () => memory),
      targets,
    )
  })

  it("'second-instance' fails an adapter that keeps detached targets only in memory", async () => {
    const memory = memoryLoadBalancer({ targets })
    const f = fixture(memory, () => inMemory(memory))
    await expect(loadBalancerChecks['second-instance'](f, targets)).rejects.toThrow()
    memory.operator('web-2', 'ready')
    await loadBalancerChecks['second-instance'](
      fixture(memory, () => memory),
      targets,
    )
  })
})
