// An executor that fails asynchronously (an 'error' emitted on a raw EventEmitter after the
// call returned, or a throw before any promise exists) fails that target's deploy step: the
// rollout ends `halted`, the target `failed` at deploy, the batch handled per the rules
// (the healthy one attached back, the failed one left out), the lock released.
import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import type { Executor } from '@org/rolling-core'
import { catchEscapes } from '../../src/testing/contracts/suite.js'
import { outcomes, setup } from './_fixture.js'

const escaped = catchEscapes()

/** The fleet's executor, except on `id`, where `fault` replaces the call. */
function faulty(executor: Executor, id: string, fault: () => Promise<never>): Executor {
  return { name: 'faulty', run: (target, request, ctx) => (target.id === id ? fault() : executor.run(target, request, ctx)) }
}

describe('adapter faults end in a halted rollout, not a crash', () => {
  const cases: [string, () => Promise<never>][] = [
    [
      "an 'error' emitted on an EventEmitter after the call returned",
      () => {
        const socket = new EventEmitter()
        const pending = new Promise<never>((_, reject) => socket.once('error', reject))
        setImmediate(() => socket.emit('error', new Error('read ECONNRESET')))
        return pending
      },
    ],
    [
      'a synchronous throw inside run()',
      () => {
        throw new Error('read ECONNRESET')
      },
    ],
  ]
  for (const [what, fault] of cases) {
    it(what, async () => {
      const fx = setup({ size: 4 })
      const options = fx.options({ batch: 2 })
      const result = await fx.run({ batch: 2, executor: faulty(options.executor, 'host-2', fault) })
      expect(result.status).toBe('halted')
      const failed = result.targets.find((r) => r.target.id === 'host-2')
      expect(failed).toMatchObject({ outcome: 'failed', failedIn: 'deploy' })
      expect(failed?.reason).toMatch(/ECONNRESET/)
      expect(outcomes(result)).toMatchObject({ 'host-1': 'done', 'host-3': 'pending', 'host-4': 'pending' })
      // Per the rules: the healthy target of the batch is back in service, the failed one left out.
      expect(fx.fleet.lb.inService('host-1')).toBe(true)
      expect(fx.fleet.lb.inService('host-2')).toBe(false)
      expect(await fx.lock.inspect(options.service)).toBeUndefined()
      await new Promise((resolve) => setImmediate(resolve))
      expect(escaped).toEqual([])
    })
  }
})
