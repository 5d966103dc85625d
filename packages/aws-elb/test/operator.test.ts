// The operator's state and the drain policy on ELBv2, through the real SDK clients against
// the fake endpoint, and through the engine: a target someone else deregistered (before or
// during the rollout) is excluded or skipped and never registered again; a target stuck
// draining (a client holding a connection) halts or proceeds as `drain.onTimeout` says.
import { memoryJournal, memoryLock, rollout, type RolloutOptions, type RolloutResult } from '@org/rolling-core'
import { contractContext, memoryArtifacts, memoryExecutor, memoryHealthCheck } from '@org/rolling-core/testing'
import { afterEach, describe, expect, it } from 'vitest'
import { startFixture, type Fixture } from './support.js'

let f: Fixture | undefined
afterEach(async () => {
  await f?.stop()
  f = undefined
})

// Four targets on the fake, a long deregistration delay that ends early when no connection
// is left (as on real ELB), and a rollout whose deploys are recorded, not run.
async function fleet(firstHost: number) {
  f = await startFixture({ targets: 4, firstHost, deregistrationDelayMs: 30_000, drainEndsWhenIdle: true })
  const fx = f
  const lb = fx.lb({ pollMs: 50 })
  const targets = await lb.discover(contractContext())
  const deployed = new Set<string>()
  const artifacts = memoryArtifacts()
  artifacts.publish('web', 'v2', 'build v2')
  const run = (options: Partial<RolloutOptions> = {}) =>
    rollout({
      service: 'web',
      loadBalancer: lb,
      artifacts,
      executor: memoryExecutor({
        handler: (target) => {
          deployed.add(target.id)
          return { exitCode: 0 }
        },
      }),
      healthCheck: memoryHealthCheck({ respond: (t) => ({ ok: true, status: 200, version: deployed.has(t.id) ? 'v2' : 'v1' }) }),
      deploy: () => ['install v2'],
      batch: 2,
      settle: { delay: 0 },
      journal: memoryJournal(),
      lock: memoryLock(),
      ...options,
    })
  const at = (i: number) => {
    const target = targets[i]
    if (!target) throw new Error(`no target ${i}`)
    return { target, id: target.address, port: target.port as number }
  }
  const registered = (id: string) => fx.aws.calls.filter((c) => c.action === 'RegisterTargets' && Object.values(c.params).includes(id)).length
  return { fx, lb, targets, deployed, run, at, registered }
}

const byId = (result: RolloutResult, id: string) => result.targets.find((r) => r.target.id === id)

describe("an operator's deregistration", () => {
  it('inventory lists draining and unhealthy targets as excluded with ELB state and reason', async () => {
    const { fx, lb, at } = await fleet(140)
    const three = at(2)
    const four = at(3)
    const client = fx.aws.hold('web', three.id, three.port)
    fx.aws.deregister('web', [three])
    const server = fx.fleet.targets.find((t) => t.host === four.id)
    if (!server) throw new Error('no server')
    server.status = 503
    for (let i = 0; i < 100 && fx.aws.state('web', four.id, four.port) !== 'unhealthy'; i++) await new Promise((r) => setTimeout(r, 25))
    const found = await lb.inventory(contractContext())
    expect(found.targets.map((t) => t.id)).toEqual([at(0).target.id, at(1).target.id])
    expect(found.excluded.map((e) => [e.target.id, e.reason])).toEqual([
      [
        three.target.id,
        'draining in target group web: deregistered by someone else (not by rolling) (Target.DeregistrationInProgress: Target deregistration is in progress)',
      ],
      [four.target.id, expect.stringMatching(/^unhealthy in target group web: not healthy \(Target.ResponseCodeMismatch/)],
    ])
    client.release()
  })

  it('a target of a later batch deregistered during the rollout is skipped, never registered again', async () => {
    const { fx, run, at, deployed, registered } = await fleet(150)
    const three = at(2)
    const rolling = run()
    rolling.on('batch:start', ({ index }) => {
      // Batch 1 (of 2) starts: the operator takes a host of batch 2 out; it drains and is gone.
      if (index === 0) fx.aws.deregister('web', [three])
    })
    const result = await rolling
    expect(byId(result, three.target.id)).toMatchObject({
      outcome: 'skipped',
      reason: expect.stringMatching(/someone else.*(draining|unused) in target group web/),
    })
    expect(result.warnings.map((w) => `${w.kind}:${w.target?.id}`)).toContain(`skipped:${three.target.id}`)
    expect(deployed.has(three.target.id)).toBe(false)
    expect(registered(three.id)).toBe(0)
    expect(fx.aws.state('web', three.id, three.port)).toBe('unused')
    for (const i of [0, 1, 3]) expect(byId(result, at(i).target.id)?.outcome).toBe('done')
  })
})

describe('a target stuck draining', () => {
  it("onTimeout 'halt': named, re-registered on its old build, its batch-mate deploys, no further batch", async () => {
    const { fx, run, at, deployed } = await fleet(160)
    const one = at(0)
    const client = fx.aws.hold('web', one.id, one.port)
    const result = await run({ drain: { timeout: 1000, onTimeout: 'halt' } })
    client.release()
    expect(result.status).toBe('halted')
    expect(result.reason).toContain(one.target.id)
    expect(result.reason).toMatch(/still draining after 1s/)
    expect(byId(result, one.target.id)?.outcome).toBe('skipped')
    expect(byId(result, at(1).target.id)?.outcome).toBe('done')
    expect([byId(result, at(2).target.id)?.outcome, byId(result, at(3).target.id)?.outcome]).toEqual(['pending', 'pending'])
    expect(deployed.has(one.target.id)).toBe(false)
    expect(fx.aws.state('web', one.id, one.port)).toBe('healthy')
  })

  it("onTimeout 'proceed': a forced-drain warning saying the deregistration delay ends the connections, then the deploy", async () => {
    const { fx, run, at, deployed } = await fleet(170)
    const one = at(0)
    const client = fx.aws.hold('web', one.id, one.port)
    const warned: string[] = []
    const rolling = run({ drain: { timeout: 1000, onTimeout: 'proceed' } })
    rolling.on('warning', ({ message }) => warned.push(message))
    const result = await rolling
    client.release()
    expect(result.status, result.reason).toBe('succeeded')
    expect(result.warnings.map((w) => `${w.kind}:${w.target?.id}`)).toEqual([`forced-drain:${one.target.id}`])
    expect(warned.join('\n')).toMatch(/still draining after 1s; ELBv2 cannot close connections: its deregistration delay ends them by itself/)
    expect(deployed.has(one.target.id)).toBe(true)
    expect(fx.aws.state('web', one.id, one.port)).toBe('healthy')
  })
})
